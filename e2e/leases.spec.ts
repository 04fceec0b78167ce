import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

test.use({ storageState: authFile("customer") });

test("a customer extends a lease within the limit at once; beyond it an approver refuses with a reason the customer reads", async ({ page, browser }) => {
  const name = uniqueName("lease");
  const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name });
  const approverContext = await browser.newContext({ storageState: authFile("approver") });
  const approve = await approverContext.request.post(`/api/v1/orders/${created.id}/approve`, { data: {}, headers: { Origin: BASE_URL } });
  expect(approve.status()).toBe(200);

  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  await page.reload();
  const panel = page.getByTestId("lease-panel");
  await expect(panel.getByTestId("lease-days-left")).toHaveText("14");
  await expect(panel).toContainText("None yet: warnings go out 7 days and 1 day before the end");

  const form = panel.getByRole("form", { name: "Extend the lease" });
  await form.getByLabel("Extend by (days)").fill("0");
  await expect(form.getByText("Extend by at least 1 day")).toBeVisible();
  await form.getByLabel("Extend by (days)").fill("10");
  await form.getByRole("button", { name: "Extend lease" }).click();
  await expect(panel.getByTestId("extend-result")).toContainText("granted: 24 days in total is within the 90-day limit of the portal");
  await expect(panel.getByTestId("lease-days-left")).toHaveText("24");

  await form.getByLabel("Extend by (days)").fill("100");
  await form.getByLabel("Reason (for an approver)").fill("the thesis runs until summer");
  await form.getByRole("button", { name: "Extend lease" }).click();
  await expect(panel.getByTestId("extend-result")).toContainText("Sent to an approver: needs an approver: 124 days in total is beyond the 90-day limit of the portal");
  await expect(panel.getByTestId("extension-requests")).toContainText("Waiting for an approver of the group.");
  await page.screenshot({ path: "test-results/lease-requested.png", fullPage: true });

  // The approver finds it among the approvals and is told (bell); opens the order and refuses with a reason.
  const approver = await approverContext.newPage();
  await approver.goto("/approvals");
  const item = approver.getByTestId("extension-item").filter({ hasText: name });
  await expect(item).toContainText("+100 days, asked by customer@e2e.test");
  await expect(item).toContainText("needs an approver: 124 days in total is beyond the 90-day limit of the portal");
  await expect(item).toContainText("Reason: the thesis runs until summer");
  await approver.screenshot({ path: "test-results/lease-approvals.png", fullPage: true });
  await approver.goto("/notifications");
  await approver.getByRole("link", { name: new RegExp(`asks to extend ${name} by 100 days`) }).click();
  const requests = approver.getByTestId("extension-requests");
  await requests.getByRole("button", { name: "Refuse" }).click();
  await expect(requests.getByText("Say why the extension is refused")).toBeVisible();
  await requests.getByLabel("Reason for your decision").fill("the lab is rebuilt in March");
  await requests.getByRole("button", { name: "Refuse" }).click();
  await expect(requests.getByTestId("extension-decision")).toContainText("Refused by approver@e2e.test: the lab is rebuilt in March");
  await approverContext.close();

  // The customer sees the reason on the order page and in the notifications (bell count).
  await page.reload();
  await expect(panel.getByTestId("extension-decision")).toHaveText("Refused by approver@e2e.test: the lab is rebuilt in March");
  await expect(panel.getByTestId("lease-days-left")).toHaveText("24");
  await expect(page.getByTestId("nav-unread")).toBeVisible();
  await page.screenshot({ path: "test-results/lease-refused.png", fullPage: true });
  await page.getByTestId("nav-bell").click();
  const note = page.getByTestId("notification").filter({ hasText: `Extension of ${name} refused` });
  await expect(note).toContainText("approver@e2e.test: the lab is rebuilt in March");
  await page.getByRole("button", { name: "Mark all read" }).click();
  await expect(page.getByTestId("unread-summary")).toHaveText("All read");
  await expect(page.getByTestId("nav-unread")).toHaveCount(0);
  await page.screenshot({ path: "test-results/notifications.png", fullPage: true });
});
