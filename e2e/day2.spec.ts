import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

/**
 * After delivery, on the order page (sim hosts): the owner takes a snapshot, reverts to it
 * after confirming and deletes it, following each action live; a size that the group's
 * policy holds for approval waits for the approver, who approves it on Approvals, and the
 * resize runs; the owner reinstalls it from the image. On a phone the cards fit.
 */

const sameOrigin = { Origin: BASE_URL };

test("the owner keeps snapshots of a delivered environment, resizes it after approval and reinstalls it", async ({ browser }) => {
  const customer = await browser.newContext({ storageState: authFile("customer") });
  const page = await customer.newPage();
  const name = uniqueName("day2");
  const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name });
  // The customer's group holds orders for approval.
  const approver = await browser.newContext({ storageState: authFile("approver") });
  const approved = await approver.request.post(`/api/v1/orders/${created.id}/approve`, { data: {}, headers: sameOrigin });
  expect(approved.status(), await approved.text()).toBe(200);
  await approver.close();

  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  const snapshots = page.getByTestId("snapshots-panel");
  await expect(snapshots).toContainText("No snapshots yet");

  // A name with characters that are not allowed is refused in the form, nothing is asked.
  await snapshots.getByLabel("Snapshot name").fill("../etc; rm");
  await snapshots.getByRole("button", { name: "Take snapshot" }).click();
  await expect(snapshots.locator("#snapshot-name-error")).toContainText("Letters, digits");

  await snapshots.getByLabel("Snapshot name").fill("before upgrade");
  await snapshots.getByRole("button", { name: "Take snapshot" }).click();
  const row = snapshots.getByTestId("snapshot-row").filter({ hasText: "before upgrade" });
  await expect(row).toHaveAttribute("data-status", "ready", { timeout: 30_000 });
  await expect(row).toContainText("disk and memory");
  await expect(snapshots.getByTestId("snapshot-last")).toContainText("Snapshot taken “before upgrade”");

  // The same name again: the API says why, under the field.
  await snapshots.getByLabel("Snapshot name").fill("before upgrade");
  await snapshots.getByRole("button", { name: "Take snapshot" }).click();
  await expect(snapshots.locator("#snapshot-name-error")).toHaveText('A snapshot named "before upgrade" exists already');
  await snapshots.getByLabel("Snapshot name").fill("");

  await row.getByRole("button", { name: "Revert" }).click();
  const dialog = snapshots.getByRole("alertdialog", { name: "Confirm revert" });
  await expect(dialog).toContainText("Everything written since");
  await dialog.getByRole("button", { name: "Yes, revert" }).click();
  await expect(snapshots.getByTestId("snapshot-last")).toContainText("Reverted to “before upgrade”", { timeout: 30_000 });
  await expect(snapshots.getByTestId("snapshot-last")).toHaveAttribute("data-status", "succeeded");

  // A size the group's policy holds for approval: it waits for an approver, the page says so.
  const resize = page.getByTestId("resize-panel");
  await expect(resize.getByTestId("current-size")).toContainText("Small");
  await resize.getByLabel("New size").selectOption("medium");
  await resize.getByRole("button", { name: "Resize" }).click();
  await expect(resize.getByTestId("resize-held")).toContainText("Resize to Medium is waiting for an approver.");
  await expect(resize.getByRole("button", { name: "Resize" })).toBeDisabled();

  await page.setViewportSize({ width: 390, height: 844 });
  for (const card of [snapshots, resize]) expect(await card.evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: "test-results/day2-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  await row.getByRole("button", { name: "Delete" }).click();
  await expect(snapshots.getByTestId("snapshot-last")).toContainText("Deleted snapshot “before upgrade”", { timeout: 30_000 });
  await expect(snapshots).toContainText("No snapshots yet");

  // The approver approves it on Approvals; the owner's page follows the resize.
  const approverCtx = await browser.newContext({ storageState: authFile("approver") });
  const approvals = await approverCtx.newPage();
  await approvals.goto("/approvals");
  const item = approvals.getByTestId("resize-item").filter({ hasText: name }).filter({ hasText: "Small → Medium" });
  await expect(item).toContainText("needs approval");
  await item.getByRole("button", { name: "Approve resize" }).click();
  await expect(item).toHaveCount(0);
  await approverCtx.close();
  await expect(resize.getByTestId("resize-last")).toContainText("Resized to Medium", { timeout: 30_000 });
  await expect(resize.getByTestId("current-size")).toContainText("Medium: 2 vCPUs");

  // Reinstall after a confirmation, keeping /data: the order goes through the pipeline again and is ready, live.
  const reinstall = page.getByTestId("reinstall-panel");
  await reinstall.getByRole("button", { name: "Reinstall…" }).click();
  await expect(reinstall.getByRole("alertdialog", { name: "Confirm reinstall" })).toContainText("its snapshots are gone");
  // Keeping /data: the confirmation says what stays.
  await reinstall.getByRole("checkbox", { name: "Keep the data on /data" }).check();
  await expect(reinstall.getByRole("alertdialog", { name: "Confirm reinstall" })).toContainText("the files under /data stay");
  await reinstall.getByRole("button", { name: "Yes, reinstall" }).click();
  await expect(orderStatus(page)).not.toHaveText("ready");
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  // The rebuild's timeline begins with the guest's removal.
  await expect(page.getByText("Remove guest and storage")).toBeVisible();
  await customer.close();
});
