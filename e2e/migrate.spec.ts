import { expect, test } from "@playwright/test";
import { authFile, QEMU_E2E, uniqueName } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

test.use({ storageState: authFile("admin") });

const BOOT_MS = 180_000;

test("an admin moves a running QEMU guest to the other host from the order page and sees migration time and downtime", async ({ page }) => {
  test.skip(!QEMU_E2E, "needs the QEMU hosts and images of the e2e server: run with E2E_QEMU=1 (npm test sets it)");
  test.setTimeout(3 * BOOT_MS);

  const created = await orderViaApi(page.request, { image: "linux-qemu", flavor: "small", name: uniqueName("move") });
  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: BOOT_MS });
  const env = page.getByTestId("environment-panel");
  await expect(page.getByTestId("environment-state")).toHaveText("running");
  const from = (await env.textContent())!.match(/qemu-[12]/)![0];
  const to = from === "qemu-1" ? "qemu-2" : "qemu-1";
  await expect(page.getByTestId("address-ip")).toHaveCount(2);
  const ips = await page.getByTestId("address-ip").allTextContents();

  const panel = page.getByTestId("move-panel");
  await expect(panel.getByRole("heading", { name: "Move to another host" })).toBeVisible();
  // Nothing chosen: the form says so under the field and asks the server nothing.
  await panel.getByRole("button", { name: "Move now" }).click();
  await expect(panel.getByText("Choose a target host")).toBeVisible();
  await expect(panel.getByLabel("Target host").locator("option")).toHaveText(["Choose a host…", new RegExp(`^${to} \\(`)]);
  await panel.getByLabel("Target host").selectOption(to);
  await panel.getByRole("button", { name: "Move now" }).click();

  // The page follows the move by itself and shows what it measured.
  const result = panel.getByTestId("move-result").first();
  await expect(result).toHaveAttribute("data-status", "succeeded", { timeout: 120_000 });
  await expect(result).toContainText(`${from} → ${to}`);
  await expect(result.getByTestId("move-total")).toHaveText(/^\d+(\.\d)? (ms|s)$/);
  await expect(result.getByTestId("move-downtime")).toHaveText(/^\d+ ms$/);
  await expect(env).toContainText(to);
  await expect(page.getByTestId("environment-state")).toHaveText("running");
  await expect(page.getByTestId("address-ip")).toHaveText(ips);
  await page.screenshot({ path: "test-results/qemu-moved.png", fullPage: true });

  // It can go back: the target list now offers the first host.
  await expect(panel.getByLabel("Target host").locator("option")).toHaveText(["Choose a host…", new RegExp(`^${from} \\(`)]);

  await page.getByRole("button", { name: "Destroy environment" }).click();
  await page.getByRole("button", { name: "Yes, destroy it" }).click();
  await expect(orderStatus(page)).toHaveText("retired", { timeout: 120_000 });
});
