import { expect, test } from "@playwright/test";
import { authFile, PASSWORD, uniqueName } from "./users";

test.describe("a student", () => {
  test.use({ storageState: authFile("student") });

  test("opening /admin sees that they have no access, and no admin content", async ({ page }) => {
    const res = await page.goto("/admin");
    expect(res?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: /You do not have access/ })).toBeVisible();
    await expect(page.getByText("403 · Forbidden")).toBeVisible();
    await page.screenshot({ path: "test-results/admin-denied.png" });
    await expect(page.getByRole("heading", { name: "Users" })).toHaveCount(0);
    await expect(page.getByRole("navigation", { name: "Administration" })).toHaveCount(0);
    expect((await page.goto("/admin/hosts"))?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "Hypervisor hosts" })).toHaveCount(0);
    await expect(page.getByRole("form", { name: "Create a user" })).toHaveCount(0);
    await expect(page.getByText("admin@portal.local")).toHaveCount(0);
    // Neither link shows in the student's navigation.
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Approvals" })).toHaveCount(0);

    expect((await page.goto("/approvals"))?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: /You do not have access/ })).toBeVisible();
  });

  test("the API refuses the student too", async ({ page }) => {
    const res = await page.request.get("/api/v1/users");
    expect(res.status()).toBe(403);
  });
});

test.describe("signed out", () => {
  test("pages send you to the sign-in page and back afterwards", async ({ page }) => {
    await page.goto("/orders");
    await expect(page).toHaveURL(/\/login\?next=%2Forders$/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  });
});

test.describe("an admin", () => {
  test.use({ storageState: authFile("admin") });

  test("sees hosts with usage, networks with free addresses, images, and users, and creates a user", async ({ page }) => {
    await page.goto("/admin/hosts");
    await expect(page.getByRole("article", { name: "Host sim-1" }).getByTestId("host-features")).toHaveText("virtual machines");
    await page.goto("/admin/networks");
    await expect(page.getByRole("table", { name: "Networks" })).toContainText("10.30.0.0/24");
    await page.goto("/admin/images");
    await expect(page.getByRole("list", { name: "Images" })).toContainText("Solaris 10 sparse-root zone");

    await page.goto("/admin");
    await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();

    const email = `${uniqueName("new")}@e2e.test`;
    const form = page.getByRole("form", { name: "Create a user" });
    await form.getByLabel("E-mail").fill("not-an-address");
    await expect(form.getByText("Enter a valid e-mail address")).toBeVisible();
    await form.getByLabel("E-mail").fill(email);
    await form.getByLabel("Name").fill("Nora New");
    await form.getByLabel("Role").selectOption("student");
    await form.getByLabel("Initial password").fill("short");
    await expect(form.getByText("Password needs at least 8 characters")).toBeVisible();
    await form.getByLabel("Initial password").fill(PASSWORD);
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(form.getByRole("status")).toHaveText(`Created ${email} (student) in group default`);
    await expect(page.getByRole("table", { name: "Users" })).toContainText(email);
    await page.screenshot({ path: "test-results/admin.png", fullPage: true });
    // The list is paged and says where it is.
    await expect(page.getByRole("navigation", { name: "Users pages" }).getByTestId("page-position")).toHaveText(/^Users 1–\d+ of \d+/);
    const finder = page.getByRole("search", { name: "Find users" });
    await finder.getByLabel("E-mail contains").fill(email.toUpperCase());
    await finder.getByRole("button", { name: "Find" }).click();
    await expect(page.getByTestId("user-row")).toHaveCount(1);
    await expect(page.getByTestId("user-row")).toContainText(email);
    await expect(page.getByRole("navigation", { name: "Users pages" }).getByTestId("page-position")).toHaveText("Users 1–1 of 1");
    await page.goto("/admin/users");

    // The same e-mail again: the server's message is shown.
    await form.getByLabel("E-mail").fill(email);
    await form.getByLabel("Name").fill("Nora Again");
    await form.getByLabel("Initial password").fill(PASSWORD);
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(form.getByRole("alert")).toHaveText(`A user with e-mail ${email} already exists`);

    // Admins can switch the order list to every order.
    await page.goto("/orders");
    await page.getByRole("link", { name: "All", exact: true }).click();
    await expect(page).toHaveURL(/\/orders\?scope=all$/);
    await expect(page.getByRole("heading", { name: "All orders" })).toBeVisible();
  });
});
