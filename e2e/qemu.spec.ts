import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, QEMU_E2E, uniqueName } from "./users";
import { orderStatus } from "./helpers";

test.use({ storageState: authFile("customer") });

// A real guest under QEMU (TCG): boots in seconds here, generous limits for a busy machine.
const BOOT_MS = 180_000;

test("customer orders the QEMU Linux image and watches the real boot log arrive live until the guest reports ready; stop and start it", async ({ page, browser }) => {
  test.skip(!QEMU_E2E, "needs the QEMU hosts and images of the e2e server: run with E2E_QEMU=1 (npm test sets it)");
  test.setTimeout(4 * BOOT_MS);

  await page.goto("/catalog?kind=qemu");
  await page.getByRole("link", { name: "Order Linux (QEMU)", exact: true }).click();
  await expect(page).toHaveURL(/\/orders\/new\?image=linux-qemu$/);
  const hostname = uniqueName("qemu");
  await page.getByLabel("Name (hostname)").fill(hostname);
  await page.getByLabel("Size", { exact: true }).selectOption("small");
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  const orderId = page.url().split("/").pop()!;
  await expect(orderStatus(page)).toHaveText("pending approval");
  // From here on the page must update by itself: a reload would drop this marker.
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

  const approver = await browser.newContext({ storageState: authFile("approver") });
  const res = await approver.request.post(`/api/v1/orders/${orderId}/approve`, { data: {}, headers: { Origin: BASE_URL } });
  expect(res.status(), await res.text()).toBe(200);
  await approver.close();

  // The guest's serial console, line by line in the open log of the running step.
  const waitStep = page.locator('[data-testid="pipeline-step"][data-step="wait_ready"]');
  await expect(waitStep).toHaveAttribute("data-status", "running", { timeout: BOOT_MS });
  const log = waitStep.getByRole("list", { name: "Log of Wait until ready" });
  await expect(log).toContainText(/Linux version \d+\.\d+/, { timeout: BOOT_MS });
  await page.screenshot({ path: "test-results/qemu-booting.png", fullPage: true });
  await expect(orderStatus(page)).toHaveText("ready", { timeout: BOOT_MS });
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);

  // Ready only because the guest said so: its line names this hostname and the shown addresses.
  // The finished step folds its log (the guest's own init lines may arrive in the same snapshot as ready).
  await waitStep.getByRole("button", { name: /Show log/ }).click();
  await expect(log).toContainText("portal-init: ");
  const readyLine = log.getByText(/^PORTAL-READY /);
  await expect(readyLine).toContainText(`hostname=${hostname}`);
  const env = page.getByTestId("environment-panel");
  await expect(env).toContainText(/qemu-[12]/);
  await expect(page.getByTestId("environment-state")).toHaveText("running");
  // Two NICs (production and service), each reported by the guest with its IP and MAC.
  await expect(page.getByTestId("address-ip")).toHaveCount(2);
  for (const ip of await page.getByTestId("address-ip").allTextContents()) await expect(readyLine).toContainText(`,${ip}/`);
  for (const mac of await page.getByTestId("address-mac").allTextContents()) await expect(readyLine).toContainText(`nic=${mac},`);
  await expect(page.getByTestId("cpu-cap")).toContainText("cgroup CPU quota");
  await page.screenshot({ path: "test-results/qemu-ready.png", fullPage: true });

  // Stop powers it off (ACPI); Start boots it again and it reports in.
  const power = page.getByTestId("power-panel");
  await power.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("environment-state")).toHaveText("stopped", { timeout: 60_000 });
  await expect(power.getByTestId("power-last")).toContainText("Stopped");
  await expect(power.getByRole("button", { name: "Stop" })).toBeDisabled();
  await power.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("environment-state")).toHaveText("running", { timeout: BOOT_MS });
  await expect(power.getByTestId("power-last")).toContainText("Started");
  await page.screenshot({ path: "test-results/qemu-restarted.png", fullPage: true });

  // Destroy: the guest goes and its addresses are freed.
  await page.getByRole("button", { name: "Destroy environment" }).click();
  await page.getByRole("button", { name: "Yes, destroy it" }).click();
  await expect(orderStatus(page)).toHaveText("retired", { timeout: 120_000 });
});
