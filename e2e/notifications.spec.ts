import { mkdirSync } from "node:fs";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { BASE_URL, authFile, uniqueName } from "./users";
import { orderViaApi } from "./helpers";

/**
 * What happens to a customer's orders reaches the bell: held, approved and ready, and a
 * rejection with the approver's reason, each linking to its order; and the e-mail choices on
 * Account save.
 */
test.use({ storageState: authFile("customer") });

const sameOrigin = { Origin: BASE_URL };
const shots = "/work/shots/notify";

async function statusOf(request: APIRequestContext, id: string) {
  return (await (await request.get(`/api/v1/orders/${id}`)).json()).status as string;
}

test("the bell counts an approval and a delivery, and a rejection with its reason; each notification leads to its order", async ({ page, request, browser }) => {
  // From an empty bell: earlier tests may have left this customer notifications.
  expect((await request.post("/api/v1/notifications/read", { data: {}, headers: sameOrigin })).ok()).toBeTruthy();
  const approver = await browser.newContext({ storageState: authFile("approver"), baseURL: BASE_URL });
  try {
    const kept = { name: uniqueName("bell") };
    const keptOrder = await orderViaApi(request, { image: "linux-test", flavor: "small", ...kept });
    expect(keptOrder.status).toBe("pending_approval");
    const approved = await approver.request.post(`/api/v1/orders/${keptOrder.id}/approve`, { data: {}, headers: sameOrigin });
    expect(approved.status(), await approved.text()).toBe(200);
    await expect.poll(() => statusOf(request, keptOrder.id), { timeout: 60_000, intervals: [250] }).toBe("ready");

    // Held, approved, ready: three unread.
    await page.goto("/orders");
    const unread = page.getByTestId("nav-unread");
    await expect(unread).toHaveText("3");
    await expect(page.getByTestId("nav-bell")).toHaveAccessibleName("Notifications: 3 unread");

    const refused = { name: uniqueName("bell") };
    const refusedOrder = await orderViaApi(request, { image: "linux-test", flavor: "small", ...refused });
    const rejected = await approver.request.post(`/api/v1/orders/${refusedOrder.id}/reject`, { data: { reason: "No budget left this term" }, headers: sameOrigin });
    expect(rejected.status(), await rejected.text()).toBe(200);

    await page.getByTestId("nav-bell").click();
    await expect(page).toHaveURL(/\/notifications$/);
    await expect(unread).toHaveText("5");
    const items = page.getByTestId("notification");
    const rejection = items.filter({ hasText: `${refused.name} was rejected` });
    await expect(rejection).toContainText(`Rejected by approver@e2e.test: No budget left this term`);
    await expect(rejection).toHaveAttribute("data-read", "false");
    await expect(items.filter({ hasText: `${kept.name} was approved` })).toHaveAttribute("data-read", "false");
    const ready = items.filter({ hasText: `${kept.name} is ready` });
    await expect(ready).toContainText(`${kept.name} runs on`);
    mkdirSync(shots, { recursive: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${shots}/notifications-390.png`, fullPage: true });
    await page.setViewportSize({ width: 1360, height: 900 });

    await ready.getByRole("link", { name: `${kept.name} is ready` }).click();
    await expect(page).toHaveURL(new RegExp(`/orders/${keptOrder.id}$`));
    await page.goto("/notifications");
    await page.getByRole("button", { name: "Mark all read" }).click();
    await expect(page.getByTestId("unread-summary")).toHaveText("All read");
    await expect(unread).toHaveCount(0);
  } finally {
    await approver.close();
  }
});

test("Account: the e-mail choices save and stay saved", async ({ page, request }) => {
  await page.goto("/account");
  const form = page.getByRole("form", { name: "E-mail preferences" });
  // The end-to-end portal has no mail server: the page says so, and the choices still save.
  await expect(form.getByTestId("no-mail-server")).toBeVisible();
  const ready = form.getByRole("checkbox", { name: "my environment is ready" });
  const held = form.getByRole("checkbox", { name: "my order waits for approval" });
  const rejected = form.getByRole("checkbox", { name: "my order is rejected (with the reason)" });
  // A customer decides on no orders: not asked about orders waiting for them.
  await expect(form.getByRole("checkbox")).toHaveCount(12);
  await expect(form.getByRole("checkbox", { name: "an order waits for my approval" })).toHaveCount(0);
  for (const box of [ready, held, rejected]) await expect(box).toBeChecked();

  await ready.uncheck();
  await held.uncheck();
  await form.getByRole("button", { name: "Save e-mail choices" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved: 10 of 12 kinds come by e-mail.");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/account-email-390.png`, fullPage: true });
  await page.setViewportSize({ width: 1360, height: 900 });

  await page.reload();
  await expect(ready).not.toBeChecked();
  await expect(held).not.toBeChecked();
  await expect(rejected).toBeChecked();
  const saved = await (await request.get("/api/v1/me/email-preferences")).json();
  expect(saved.email).toMatchObject({ "order.ready": false, "order.held": false, "order.rejected": true });

  // Back as they were, for the tests after this one.
  await ready.check();
  await held.check();
  await form.getByRole("button", { name: "Save e-mail choices" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved: 12 of 12 kinds come by e-mail.");
});
