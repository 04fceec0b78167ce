import { mkdirSync } from "node:fs";
import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { authFile, BASE_URL, uniqueName, type RoleName } from "./users";
import { orderViaApi } from "./helpers";

/**
 * A patch campaign from the admin's page: an image of its own with two delivered sim
 * environments on version 1 and a version 2; the admin starts a campaign for every outdated
 * environment in waves of one, lands on its page and watches both waves run and finish without
 * a reload; the environments are then on version 2, not outdated. At 390 px the campaign's
 * pages fit the window.
 */

const sameOrigin = { Origin: BASE_URL };
const SHOTS = "test-results/campaigns";

async function api(role: RoleName): Promise<APIRequestContext> {
  return request.newContext({ baseURL: BASE_URL, storageState: authFile(role), extraHTTPHeaders: sameOrigin });
}

/** The images these tests make for themselves: hidden again at the end, so other tests see the sample catalog. */
const madeImages: string[] = [];
test.afterAll(async () => {
  const admin = await api("admin");
  for (const id of madeImages) {
    const res = await admin.patch(`/api/v1/images/${id}`, { data: { active: false } });
    expect(res.status(), await res.text()).toBe(200);
  }
  await admin.dispose();
});

/** Nothing on the page is wider than the window (tables scroll or stack in their own box). */
async function fits(page: Page) {
  return page.evaluate(() => ({ content: document.documentElement.scrollWidth, window: window.innerWidth }));
}

test.use({ storageState: authFile("admin") });

test("an admin starts a campaign on sim environments and watches it finish live; its pages fit a phone", async ({ page }) => {
  test.setTimeout(180_000);
  const admin = await api("admin");
  const customer = await api("customer");
  const approver = await api("approver");

  // An image of this test's own, so that the campaign takes only its environments.
  const slug = uniqueName("camp").replace(/[^a-z0-9-]/g, "");
  const created = await admin.post("/api/v1/images", {
    data: { slug, name: `Campaign test ${slug}`, os: "linux", version: "Debian 12", hostKinds: ["sim"], source: "clone", purpose: "test", sizeMb: 512 },
  });
  expect(created.status(), await created.text()).toBe(201);
  const image = (await created.json()) as { id: string; name: string };
  madeImages.push(image.id);

  const orders: string[] = [];
  for (const n of [1, 2]) {
    const o = await orderViaApi(customer, { image: slug, flavor: "small", name: uniqueName(`cmp${n}`) });
    if (o.status === "pending_approval") expect((await approver.post(`/api/v1/orders/${o.id}/approve`, { data: {} })).status()).toBe(200);
    orders.push(o.id);
  }
  for (const id of orders) {
    await expect.poll(async () => ((await (await customer.get(`/api/v1/orders/${id}`)).json()) as { status: string }).status, { timeout: 60_000 }).toBe("ready");
  }
  const v2 = await admin.post(`/api/v1/images/${image.id}/versions`, { data: { changelog: "Security updates of the night" } });
  expect(v2.status(), await v2.text()).toBe(201);
  for (const id of orders) {
    const o = (await (await customer.get(`/api/v1/orders/${id}`)).json()) as { environment: { imageVersion: number; outdated: boolean } };
    expect(o.environment).toMatchObject({ imageVersion: 1, outdated: true });
  }

  await page.goto("/admin/campaigns");
  await expect(page.getByRole("heading", { level: 1, name: "Patch campaigns" })).toBeVisible();
  const form = page.getByRole("form", { name: "Start a patch campaign" });
  await form.getByLabel("Name (optional)").fill(`Night of ${slug}`);
  await form.getByLabel("Image").selectOption(slug);
  await expect(form.getByLabel("Update to version")).toHaveValue("2");
  await form.getByLabel("Every outdated environment").check();
  await form.getByLabel("Group", { exact: true }).selectOption("");
  await form.getByLabel("Wave size").fill("1");
  await form.getByRole("button", { name: "Start campaign" }).click();

  await expect(page).toHaveURL(/\/admin\/campaigns\/[0-9a-f-]{36}$/);
  const campaignUrl = page.url();
  await expect(page.getByTestId("campaign-name")).toHaveText(`Night of ${slug}`);
  await expect(page.getByTestId("stream-mode")).toHaveAttribute("data-mode", "live");
  const rows = page.getByTestId("target-row");
  await expect(rows).toHaveCount(2);

  // Watched without a reload: the states each environment passes through, as the page shows them.
  const seen = new Set<string>();
  await expect
    .poll(
      async () => {
        for (const s of await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-status") ?? ""))) seen.add(s);
        return page.getByTestId("campaign-status").getAttribute("data-status");
      },
      { timeout: 120_000, intervals: [250] },
    )
    .toBe("completed");
  expect([...seen].some((s) => ["backing_up", "reinstalling", "checking"].includes(s)), `states seen: ${[...seen].join(", ")}`).toBe(true);
  await expect(rows.getByTestId("target-status")).toHaveText(["done", "done"]);
  await expect(page.getByTestId("wave-row")).toHaveCount(2);
  await expect(page.getByTestId("campaign-reason")).toContainText("2 updated");
  await expect(page.getByTestId("stream-mode")).toHaveAttribute("data-mode", "closed");
  for (const row of await rows.all()) await expect(row).toContainText("v1 → v2");
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/campaign-desktop.png`, fullPage: true });

  // The order page says version 2, not outdated.
  await page.goto(`/orders/${orders[0]}`);
  await expect(page.getByTestId("environment-image-version")).toContainText("v2");
  await expect(page.getByTestId("outdated-badge")).toHaveCount(0);

  // On a phone the campaign's pages scroll only up and down.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of [campaignUrl, "/admin/campaigns"]) {
    await page.goto(path);
    await expect(page.locator("main h1").first()).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/${path === campaignUrl ? "campaign" : "campaigns"}-390.png`, fullPage: true });
    const w = await fits(page);
    expect(w.content, `${path} is wider than a 390 px window`).toBeLessThanOrEqual(w.window);
  }
});

test.describe("the owner's side", () => {
  test.use({ storageState: authFile("customer"), viewport: { width: 390, height: 844 } });

  test("the order page says when a campaign will update the environment, and its owner postpones it once", async ({ page }) => {
    test.setTimeout(120_000);
    const admin = await api("admin");
    const approver = await api("approver");
    const slug = uniqueName("camppp").replace(/[^a-z0-9-]/g, "");
    const created = await admin.post("/api/v1/images", {
      data: { slug, name: `Postpone test ${slug}`, os: "linux", version: "Debian 12", hostKinds: ["sim"], source: "clone", purpose: "test", sizeMb: 512 },
    });
    expect(created.status(), await created.text()).toBe(201);
    const image = (await created.json()) as { id: string };
    madeImages.push(image.id);
    const o = await orderViaApi(page.request, { image: slug, flavor: "small", name: uniqueName("cmpp") });
    if (o.status === "pending_approval") expect((await approver.post(`/api/v1/orders/${o.id}/approve`, { data: {} })).status()).toBe(200);
    await expect.poll(async () => ((await (await page.request.get(`/api/v1/orders/${o.id}`)).json()) as { status: string }).status, { timeout: 60_000 }).toBe("ready");
    expect((await admin.post(`/api/v1/images/${image.id}/versions`, { data: { changelog: "Kernel update" } })).status()).toBe(201);
    const start = new Date(Date.now() + 86_400_000);
    const campaign = await admin.post("/api/v1/campaigns", {
      data: {
        name: `Tomorrow ${slug}`, image: slug, targets: { outdated: true }, waveSize: 1, failureThreshold: { count: 0 }, postponeMaxDays: 3,
        window: { start: start.toISOString(), end: new Date(start.getTime() + 5 * 86_400_000).toISOString() },
      },
    });
    expect(campaign.status(), await campaign.text()).toBe(201);

    await page.goto(`/orders/${o.id}`);
    await expect(page.getByTestId("outdated-badge")).toBeVisible();
    const notice = page.getByTestId("campaign-notice");
    await expect(notice).toContainText(`Tomorrow ${slug}`);
    await expect(notice).toContainText("version 2");
    await expect(notice).toHaveAttribute("data-status", "pending");
    await notice.getByLabel("Postpone by (days, once)").selectOption("2");
    await notice.getByRole("button", { name: "Postpone" }).click();
    await expect(notice.getByRole("status")).toContainText("Postponed until");
    await expect(notice).toHaveAttribute("data-status", "postponed");
    // Once only: the choice is gone.
    await expect(notice.getByRole("button", { name: "Postpone" })).toHaveCount(0);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/order-postponed-390.png`, fullPage: true });
    await notice.screenshot({ path: `${SHOTS}/campaign-notice-390.png` });
    await page.getByTestId("environment-panel").screenshot({ path: `${SHOTS}/environment-panel-390.png` });
    const w = await fits(page);
    expect(w.content, "the order page is wider than a 390 px window").toBeLessThanOrEqual(w.window);
  });
});
