import { expect, request, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderViaApi } from "./helpers";

/**
 * Service IPs in the browser, on a phone (390 px): the customer reserves one on the Service IPs
 * page, attaches it from the order page's card (server-rendered forms), sees it answer there
 * and detaches it; the admin sees on Networks where it points, routes two networks and
 * separates them again. Every page fits the window.
 */

const PHONE = { width: 390, height: 844 };
const sameOrigin = { Origin: BASE_URL };

async function fits(page: import("@playwright/test").Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, `${page.url()} is wider than the window`).toBeLessThanOrEqual(innerWidth);
}

test("a customer reserves a service IP, attaches it to a delivered environment and detaches it; the admin sees where it points", async ({ browser }) => {
  test.setTimeout(120_000);
  const customer = await request.newContext({ baseURL: BASE_URL, storageState: authFile("customer"), extraHTTPHeaders: sameOrigin });
  const approver = await request.newContext({ baseURL: BASE_URL, storageState: authFile("approver"), extraHTTPHeaders: sameOrigin });
  const ordered = await orderViaApi(customer, { image: "linux-test", flavor: "small", name: uniqueName("sip") });
  expect((await approver.post(`/api/v1/orders/${ordered.id}/approve`, { data: {} })).status()).toBe(200);
  await expect.poll(async () => ((await (await customer.get(`/api/v1/orders/${ordered.id}`)).json()) as { status: string }).status, { timeout: 60_000 }).toBe("ready");

  const context = await browser.newContext({ storageState: authFile("customer"), viewport: PHONE });
  const page = await context.newPage();
  const name = uniqueName("web").replace(/[^a-z0-9-]/g, "").slice(0, 30);
  await page.goto("/service-ips");
  await expect(page.getByRole("heading", { name: "Service IPs", level: 1 })).toBeVisible();
  await page.locator("#reserve-name").fill(name);
  await page.locator("#reserve-network").selectOption({ label: "Service network (10.20.0.0/24)" });
  await page.getByRole("button", { name: "Reserve" }).click();
  await expect(page.getByRole("status")).toContainText(`Reserved ${name}: 10.20.0.`);
  const row = page.getByTestId("service-ip-row").filter({ hasText: name });
  await expect(row).toContainText("not attached");
  await fits(page);

  await page.goto(`/orders/${ordered.id}`);
  const card = page.getByTestId("service-ips");
  await expect(card).toContainText("No service IP points at");
  const choice = await card.locator("option", { hasText: name }).getAttribute("value");
  await card.getByLabel("Attach a service IP of the group").selectOption(choice!);
  await card.getByRole("button", { name: "Attach" }).click();
  await expect(page.getByTestId("service-ips").getByRole("status")).toContainText(`${name} (10.20.0.`);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("service-ip")).toContainText("answers here since", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await fits(page);

  const admin = await browser.newContext({ storageState: authFile("admin"), viewport: PHONE });
  const adminPage = await admin.newPage();
  await adminPage.goto("/admin/networks");
  const environment = ((await (await customer.get(`/api/v1/orders/${ordered.id}`)).json()) as { environment: { hostname: string } }).environment.hostname;
  await expect(adminPage.getByTestId("network-service-ips").filter({ hasText: name })).toContainText(environment);
  await adminPage.locator("#route-network").selectOption({ label: "Production network (10.30.0.0/24)" });
  await adminPage.locator("#route-other").selectOption({ label: "Service network (10.20.0.0/24)" });
  await adminPage.getByRole("button", { name: "Route" }).click();
  await expect(adminPage.getByRole("status")).toContainText("applied to the running hosts now");
  const route = adminPage.getByTestId("network-route").filter({ hasText: "Production network" });
  await expect(route).toContainText("Service network");
  await fits(adminPage);
  await route.getByRole("button", { name: "Separate" }).click();
  await expect(adminPage.getByRole("status")).toContainText("are kept apart again");
  await expect(adminPage.getByTestId("network-route")).toHaveCount(0);

  await page.getByTestId("service-ip").getByRole("button", { name: "Detach" }).click();
  await expect(page.getByTestId("service-ips").getByRole("status")).toContainText("detach queued");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("service-ips")).toContainText("No service IP points at", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await Promise.all([context.close(), admin.close(), customer.dispose(), approver.dispose()]);
});
