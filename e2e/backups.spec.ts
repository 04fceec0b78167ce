import { mkdirSync } from "node:fs";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

const sameOrigin = { Origin: BASE_URL };
const SHOTS = "/work/shots/backup";

async function approve(browser: Browser, orderId: string) {
  const approver = await browser.newContext({ storageState: authFile("approver") });
  const res = await approver.request.post(`/api/v1/orders/${orderId}/approve`, { data: {}, headers: sameOrigin });
  expect(res.status(), await res.text()).toBe(200);
  await approver.close();
}

/** Nothing on the page is wider than the window (tables scroll in their own box). */
async function fits(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

test.describe("backups on the order page", () => {
  test.use({ storageState: authFile("customer"), viewport: { width: 390, height: 844 } });

  test("the owner backs up from the order page, sees it proven live, and restores it in place", async ({ page, browser }) => {
    mkdirSync(SHOTS, { recursive: true });
    const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name: uniqueName("bak") });
    await approve(browser, created.id);
    await page.goto(`/orders/${created.id}`);
    await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
    const panel = page.getByTestId("backups-panel");
    await expect(panel).toContainText("No backups yet");

    await panel.getByRole("button", { name: "Back up now" }).click();
    // Progress shows while the backup runs, without a reload.
    await expect(panel.getByTestId("backup-progress")).toContainText("Backing up");
    const item = panel.getByTestId("backup-item").first();
    await expect(item.getByTestId("backup-verdict")).toHaveText(/^verified: booted and read back at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/, { timeout: 60_000 });
    await expect(item).toContainText(/sha256 [0-9a-f]{64}/);
    await page.screenshot({ path: `${SHOTS}/backups-panel-390.png`, fullPage: true });
    expect(await fits(page)).toBe(true);

    page.once("dialog", (d) => void d.accept());
    await item.getByRole("button", { name: "Restore" }).click();
    await expect(panel.getByTestId("backup-progress")).toContainText("Restoring");
    await expect(panel.getByTestId("backup-progress")).toHaveCount(0, { timeout: 60_000 });
    await expect(panel.getByRole("button", { name: "Back up now" })).toBeEnabled();
    await expect(panel.getByRole("alert")).toHaveCount(0);
    await expect(page.getByTestId("power-panel")).toContainText("The guest is running");
  });
});
