import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, qemuImageCount, uniqueName, users } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

test.use({ storageState: authFile("customer") });

test("customer orders a Linux image, an approver approves, the page follows delivery live to ready", async ({ page, browser }) => {
  // Catalog
  await page.goto("/catalog");
  await expect(page.getByRole("heading", { name: "Image catalog" })).toBeVisible();
  await expect(page.getByTestId("catalog-image")).toHaveCount(6 + qemuImageCount);
  await expect(page.getByTestId("nav-user-email")).toHaveText(users.customer.email);
  await page.screenshot({ path: "test-results/catalog.png", fullPage: true });

  // Order form, validated as you type
  await page.getByRole("link", { name: "Order Linux test server" }).click();
  await expect(page).toHaveURL(/\/orders\/new\?image=linux-test$/);
  await expect(page.getByRole("heading", { name: "Order an environment" })).toBeVisible();
  await expect(page.getByLabel("Image", { exact: true })).toHaveValue("linux-test");
  const name = page.getByLabel("Name (hostname)");
  const nameError = page.getByTestId("order-name-error");
  await name.pressSequentially("Web_01", { delay: 20 });
  await expect(nameError).toHaveText("Use lowercase letters, digits and hyphens; start with a letter, end with a letter or digit");
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await page.screenshot({ path: "test-results/order-form-invalid.png" });
  await name.fill("w");
  await expect(nameError).toHaveText("Name needs at least 3 characters");
  const hostname = uniqueName("web");
  await name.fill(hostname);
  await expect(nameError).toBeHidden();
  await expect(name).toHaveAttribute("aria-invalid", "false");
  await page.getByLabel("Size", { exact: true }).selectOption("small");
  await page.screenshot({ path: "test-results/order-form.png", fullPage: true });

  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("order-name")).toHaveText(hostname);
  await expect(orderStatus(page)).toHaveText("pending approval");
  await expect(page.getByTestId("order-reason")).toHaveText(
    'Waiting for approvalHeld for approval by rule "Default": group Default pool requires an approver for customer orders',
  );
  await expect(page.getByRole("button", { name: "Cancel order" })).toBeVisible();
  // The customer cannot decide on their own order.
  await expect(page.getByRole("button", { name: `Approve ${hostname}` })).toHaveCount(0);

  // From here on the page must update by itself: a reload would drop this marker.
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

  // The approver approves in another browser context.
  const approverContext = await browser.newContext({ storageState: authFile("approver") });
  const approver = await approverContext.newPage();
  await approver.goto("/approvals");
  await expect(approver.getByRole("heading", { name: "Approvals" })).toBeVisible();
  const item = approver.locator(`[data-testid="approval-item"][data-order-name="${hostname}"]`);
  await expect(item).toContainText(users.customer.email);
  await expect(item.getByTestId("approval-reason")).toHaveText('Held for approval by rule "Default": group Default pool requires an approver for customer orders');
  await approver.screenshot({ path: "test-results/approvals.png", fullPage: true });
  await item.getByRole("button", { name: `Approve ${hostname}` }).click();
  // The card turns into a confirmation and stays (the list does not drop it under the approver's hand).
  await expect(item.getByTestId("decision-done")).toHaveText(`Approved: ${hostname} is queued for delivery.`);
  await expect(item.getByRole("button", { name: `Approve ${hostname}` })).toHaveCount(0);
  await approverContext.close();

  // Back on the customer's page: the steps advance live.
  await expect(page.locator('[data-testid="pipeline-step"][data-status="running"]').first()).toBeVisible({ timeout: 20_000 });
  await page.screenshot({ path: "test-results/order-page-running.png", fullPage: true });
  await expect(page.getByTestId("stream-mode")).toHaveAttribute("data-mode", "live");
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  await expect(page.locator('[data-testid="pipeline-step"][data-status="succeeded"]')).toHaveCount(11);
  await expect(page.getByTestId("phase-mk_image").getByTestId("pipeline-step")).toHaveCount(3);
  await expect(page.getByTestId("phase-mk_virtual").getByTestId("pipeline-step")).toHaveCount(8);

  const env = page.getByTestId("environment-panel");
  await expect(env.getByRole("heading", { name: "Delivered environment" })).toBeVisible();
  await expect(env).toContainText(hostname);
  await expect(page.getByTestId("environment-state")).toHaveText("running");
  const ips = page.getByTestId("address-ip");
  await expect(ips.filter({ hasText: /^10\.30\.0\.\d{1,3}$/ })).toHaveCount(1);
  await expect(ips.filter({ hasText: /^10\.20\.0\.\d{1,3}$/ })).toHaveCount(1);
  await expect(page.getByTestId("address-mac").filter({ hasText: /^02:00:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/ })).toHaveCount(2);
  await expect(page.getByRole("button", { name: "Destroy environment" })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  await page.screenshot({ path: "test-results/order-page.png", fullPage: true });

  // The order is in the customer's list.
  await page.getByRole("link", { name: "My orders" }).click();
  const row = page.getByTestId("order-row").filter({ hasText: hostname });
  await expect(row.getByTestId("status-badge")).toHaveText("ready");
  await page.screenshot({ path: "test-results/orders.png", fullPage: true });
});

test("a rejected order shows the approver's reason to the customer", async ({ page, browser }) => {
  const hostname = uniqueName("rej");
  const order = await orderViaApi(page.request, { image: "linux-dev", flavor: "medium", name: hostname });
  expect(order.status).toBe("pending_approval");
  await page.goto(`/orders/${order.id}`);
  await expect(orderStatus(page)).toHaveText("pending approval");

  const approverContext = await browser.newContext({ storageState: authFile("approver") });
  const approver = await approverContext.newPage();
  await approver.goto("/approvals");
  const item = approver.locator(`[data-testid="approval-item"][data-order-name="${hostname}"]`);
  await item.getByRole("button", { name: `Reject ${hostname}` }).click();
  const reason = item.getByLabel("Reason for rejecting (the customer will read it)");
  await reason.fill("no");
  await expect(item.getByText("Say why the order is rejected")).toBeVisible();
  await reason.fill("Use the shared build cluster for CI jobs instead");
  await item.getByRole("button", { name: "Reject order" }).click();
  await expect(item.getByTestId("decision-done")).toHaveText(`Rejected: the customer sees your reason on ${hostname}'s page.`);
  await approverContext.close();

  // Live on the customer's open page, and after a fresh load.
  await expect(orderStatus(page)).toHaveText("rejected");
  const shown = page.getByTestId("order-reason");
  await expect(shown).toContainText(`rejected by ${users.approver.email}: Use the shared build cluster for CI jobs instead`);
  await expect(page.getByRole("button", { name: "Cancel order" })).toHaveCount(0);
  await page.reload();
  await expect(shown).toContainText("Use the shared build cluster for CI jobs instead");
  await expect(page.getByText("Nothing was built: the order is rejected.")).toBeVisible();
  await page.screenshot({ path: "test-results/order-rejected.png", fullPage: true });
});

test("without server-sent events the order page polls, and the form shows the server's field messages", async ({ page, browser }) => {
  const hostname = uniqueName("poll");
  const order = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name: hostname });
  // A proxy that breaks event streams: the page must fall back to polling GET /api/v1/orders/:id.
  await page.route("**/api/v1/orders/*/events", (route) => route.abort());
  await page.goto(`/orders/${order.id}`);
  await expect(page.getByTestId("stream-mode")).toHaveAttribute("data-mode", "polling");
  await expect(page.getByTestId("stream-mode")).toHaveText("Updating every 2 s");

  const approverContext = await browser.newContext({ storageState: authFile("approver") });
  const res = await approverContext.request.post(`/api/v1/orders/${order.id}/approve`, { data: {}, headers: { Origin: BASE_URL } });
  expect(res.status()).toBe(200);
  await approverContext.close();
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  await expect(page.getByTestId("address-ip").filter({ hasText: /^10\.30\.0\.\d{1,3}$/ })).toHaveCount(1);

  // The same name again: valid as typed, refused by the server, and the form says where.
  await page.goto("/orders/new?image=linux-dev");
  await page.getByLabel("Name (hostname)").fill(hostname);
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page.getByTestId("order-name-error")).toHaveText("Name already in use");
  await expect(page.getByRole("alert").filter({ hasText: `The name ${hostname} is already used by another environment` })).toBeVisible();
  await expect(page).toHaveURL(/\/orders\/new/);
});
