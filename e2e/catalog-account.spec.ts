import { expect, test } from "@playwright/test";
import { authFile, qemuImageCount } from "./users";
import { ALICE_FINGERPRINT, ALICE_KEY } from "../tests/fixtures/ssh-keys";

test.use({ storageState: authFile("customer") });

test("catalog filters by OS and hypervisor work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ storageState: authFile("customer"), javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/catalog");
  await page.getByLabel("Operating system").selectOption("solaris");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/\/catalog\?os=solaris&kind=$/);
  const images = page.getByTestId("catalog-image");
  await expect(images).toHaveCount(2);
  await expect(images.first()).toContainText("Solaris");

  await page.getByLabel("Operating system").selectOption("");
  await page.getByLabel("Hypervisor").selectOption("qemu");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/\/catalog\?os=&kind=qemu$/);
  // Only images built for QEMU (npm run images:build) run there; the sample catalog's Linux images are sim/Xen stand-ins.
  await expect(images).toHaveCount(qemuImageCount);
  await expect(page.getByText("Linux database server")).toHaveCount(0);
  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(images).toHaveCount(6 + qemuImageCount);
  await expect(page.getByRole("table").getByText("Capped: 2 CPUs, 4 GiB")).toBeVisible();
  await context.close();
});

test("API tokens: created and shown once, listed by prefix, revoked", async ({ page }) => {
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();
  await page.getByLabel("Token name").fill("ci pipeline");
  await page.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByTestId("new-token-value");
  await expect(shown).toHaveText(/^ptk_[A-Za-z0-9_-]{40,}$/);
  await expect(page.getByTestId("new-token")).toContainText("it is shown only once");
  const token = (await shown.textContent())!.trim();
  await page.screenshot({ path: "test-results/account.png", fullPage: true });

  // The token works against the API, then the list shows it was used.
  const res = await page.request.get("/api/v1/orders", { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(200);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await page.reload();
  const row = page.getByTestId("token-row").filter({ hasText: "ci pipeline" });
  await expect(row).toContainText(`${token.slice(0, 10)}…`);
  await expect(row).not.toContainText("never");
  await expect(page.getByText(token)).toHaveCount(0);

  await row.getByRole("button", { name: "Revoke ci pipeline" }).click();
  await expect(row).toHaveCount(0);
  const after = await page.request.get("/api/v1/orders", { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
});

test("SSH key: checked as you type, saved with its fingerprint, kept after a reload, removed", async ({ page }) => {
  // Made with ssh-keygen -t ed25519; `ssh-keygen -lf` printed the fingerprint below.
  const key = ALICE_KEY;
  await page.goto("/account");
  const form = page.getByRole("form", { name: "Set your SSH key" });
  await expect(page.getByText("You have no key on file")).toBeVisible();
  await form.getByLabel("Public key").fill(`${key}; rm -rf /`);
  await expect(form.getByText(/a comment may hold letters, digits, spaces/)).toBeVisible();
  await form.getByLabel("Public key").fill(key);
  await expect(form.locator(".field-error")).toHaveCount(0);
  await form.getByRole("button", { name: "Save key" }).click();
  await expect(form.getByRole("status")).toContainText(ALICE_FINGERPRINT);
  await page.screenshot({ path: "test-results/account-ssh-key.png", fullPage: true });
  await page.reload();
  await expect(page.getByTestId("ssh-key-current")).toContainText(ALICE_FINGERPRINT);
  await page.getByRole("button", { name: "Remove key" }).click();
  await expect(page.getByText("You have no key on file")).toBeVisible();
});
