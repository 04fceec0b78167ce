import { expect, test, type Page } from "@playwright/test";
import { authFile, uniqueName } from "./users";
import { orderStatus, recipeItemForFile, submitAndApprove } from "./helpers";

/**
 * A catalog item with a recipe (the web service, on simulated hosts): the order form shows the
 * recipe's fields, its allowed settings and accounts, checks them as you type and shows what the
 * server refuses; at 390 px nothing sticks out sideways. The order page shows the recipe's own
 * steps and its address, and the owner sees the generated password once.
 */

const item = recipeItemForFile({ prefix: "web-e2e", name: "Web service", version: "busybox httpd", purpose: "web", recipeSlug: "web" });

test.use({ storageState: authFile("customer") });

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test("the order form shows the recipe's fields and settings, checks them, and fits a phone", async ({ page }) => {
  await page.goto(`/orders/new?image=${item.slug}`);
  const fields = page.getByTestId("recipe-fields");
  await expect(fields).toBeVisible();
  await expect(fields.getByText("Web service", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Page title")).toBeVisible();
  await expect(page.getByLabel("Page text")).toBeVisible();
  await expect(page.getByLabel("Or upload a site (.tar.gz)")).toHaveAttribute("type", "file");
  await expect(page.getByLabel("sysctl net.core.somaxconn")).toBeVisible();
  await expect(page.getByLabel("APP_MODE (service variable)")).toBeVisible();

  // Checked as you type, with the recipe's own messages.
  await page.getByLabel("Page title").fill("x".repeat(121));
  await expect(page.getByTestId("recipe-title-error")).toHaveText("Title can have at most 120 characters");
  await page.getByLabel("Page title").fill("Team page");
  await expect(page.getByTestId("recipe-title-error")).toBeHidden();
  await page.getByLabel("sysctl net.core.somaxconn").fill("1; reboot");
  await expect(page.getByTestId("setting-net-core-somaxconn-error")).toHaveText("A sysctl value holds letters, digits, spaces and . _ : / , - (1 to 200)");
  await page.getByLabel("sysctl net.core.somaxconn").fill("1024");
  await expect(page.getByTestId("setting-net-core-somaxconn-error")).toBeHidden();
  await page.getByTestId("add-account").click();
  await page.getByLabel("Login name").fill("root");
  await expect(page.getByTestId("account-0-name-error")).toHaveText("This name is taken by the system; choose another");

  // A phone: the recipe's fields and an account row fit 390 px.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(fields).toBeVisible();
  expect(await horizontalOverflow(page), "the order form scrolls sideways at 390 px").toBeLessThanOrEqual(0);
  await page.screenshot({ path: "test-results/order-form-recipe-390.png", fullPage: true });
  await page.setViewportSize({ width: 1360, height: 900 });

  // What only the server can check (the archive's content) comes back under its field; nothing is created.
  await page.getByLabel("Login name").fill("alice");
  await page.getByLabel("Groups (comma-separated)").fill("deploy");
  await page.getByLabel("Name (hostname)").fill(uniqueName("webform"));
  await page.getByLabel("Or upload a site (.tar.gz)").setInputFiles({ name: "site.tar.gz", mimeType: "application/gzip", buffer: Buffer.from("not a tarball") });
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page.getByTestId("recipe-site-error")).toHaveText("The site archive is refused: the file is not gzip-compressed (a .tar.gz is expected)");
  await expect(page.getByTestId("order-form-error")).toContainText("check the fields marked below");
  await expect(page).toHaveURL(/\/orders\/new/);
});

test("the order page shows the recipe's steps and address, and the password once", async ({ page }) => {
  await page.goto(`/orders/new?image=${item.slug}`);
  await page.getByLabel("Page title").fill("Team page");
  await page.getByLabel("APP_MODE (service variable)").fill("production");
  const hostname = uniqueName("webpage");
  await page.getByLabel("Name (hostname)").fill(hostname);
  await page.getByLabel("Size", { exact: true }).selectOption("small");
  await submitAndApprove(page);

  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  const steps = page.getByTestId("recipe-step");
  await expect(steps).toHaveCount(3);
  for (const name of ["content", "service", "check"]) await expect(page.locator(`[data-testid="recipe-step"][data-step="${name}"]`)).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("recipe-url")).toHaveText(/^http:\/\/10\.\d+\.\d+\.\d+\/$/);
  await expect(page.getByTestId("recipe-panel")).toContainText("APP_MODE=production");

  await page.getByTestId("recipe-reveal").click();
  const value = page.getByTestId("recipe-secret-value");
  await expect(value).toContainText(/[A-Za-z0-9_-]{24}/);
  await expect(value).toContainText("Shown this once");
  await page.reload();
  await expect(page.getByTestId("recipe-reveal")).toHaveCount(0);
  await expect(page.locator('[data-output="adminPassword"]')).toContainText("Shown to the owner on");
});
