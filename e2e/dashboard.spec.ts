import { readFileSync } from "node:fs";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { ADMIN, BASE_URL, authFile, uniqueName } from "./users";
import { orderViaApi } from "./helpers";
import { parseCsv } from "../lib/audit/csv";

test.use({ storageState: authFile("admin") });

async function waitReady(request: APIRequestContext, id: string) {
  await expect
    .poll(async () => (await (await request.get(`/api/v1/orders/${id}`)).json()).status, { timeout: 60_000, intervals: [250] })
    .toBe("ready");
}

test("the delivery dashboard charts the orders delivered, the order page counts down while one runs", async ({ page, request, browser }) => {
  // Deliveries of two images (an admin's orders are approved by policy). The first run has no
  // history to learn from; the ones after it are estimated from it.
  const pioneer = await orderViaApi(request, { image: "linux-test", flavor: "small", name: uniqueName("dash") });
  await waitReady(request, pioneer.id);
  const first = await Promise.all([
    orderViaApi(request, { image: "linux-test", flavor: "small", name: uniqueName("dash") }),
    orderViaApi(request, { image: "linux-db", flavor: "small", name: uniqueName("dash") }),
  ]);
  for (const o of first) await waitReady(request, o.id);

  // A customer's order waits for approval: its page (open before the pipeline starts) says how
  // long delivery takes once approved, then counts down while the pipeline runs.
  const customer = await browser.newContext({ storageState: authFile("customer"), baseURL: BASE_URL });
  const held = await orderViaApi(customer.request, { image: "linux-test", flavor: "small", name: uniqueName("dash") });
  await customer.close();
  expect(held.status).toBe("pending_approval");
  await page.goto(`/orders/${held.id}`);
  const estimate = page.getByTestId("delivery-estimate");
  await expect(estimate).toHaveAttribute("data-phase", "waiting_for_approval");
  await expect(estimate).toContainText("Once approved, delivery takes about");
  await expect(page.getByTestId("estimate-left")).toHaveText(/\d+(\.\d)? (ms|s|min)/);
  const approved = await request.post(`/api/v1/orders/${held.id}/approve`, { data: {}, headers: { Origin: BASE_URL } });
  expect(approved.status()).toBe(200);
  // While it runs: time left, expected ready time and progress, all at one moment.
  const seen = await page.waitForFunction(() => {
    const box = document.querySelector('[data-testid="delivery-estimate"]');
    if (box?.getAttribute("data-phase") !== "running") return null;
    const left = box.querySelector('[data-testid="estimate-left"]')?.textContent ?? "";
    const readyAt = box.querySelector('[data-testid="estimate-ready-at"]')?.textContent ?? "";
    const progress = box.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow");
    return { left, readyAt, progress };
  }, null, { polling: 50, timeout: 30_000 });
  await page.screenshot({ path: "test-results/order-estimate-running.png" });
  const running = (await seen.jsonValue())!;
  expect(running.left).toMatch(/^\d+(\.\d)? (ms|s|min)/);
  expect(running.readyAt).toMatch(/^\d\d:\d\d:\d\d UTC$/);
  expect(running.progress).toMatch(/^\d{1,3}$/);
  expect(Number(running.progress)).toBeLessThanOrEqual(100);
  // Without a reload the page turns to what the delivery took.
  await expect(estimate).toHaveAttribute("data-phase", "delivered", { timeout: 60_000 });
  await expect(page.getByTestId("delivered-in")).toHaveText(/\d/);
  await expect(estimate).toContainText("within the hour");
  await page.screenshot({ path: "test-results/order-estimate-delivered.png" });

  // The dashboard, reached from the admin pages' menu.
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Delivery" }).click();
  await expect(page).toHaveURL(/\/admin\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Delivery within the hour" })).toBeVisible();
  // Views share figures for a few seconds; the page says when they were computed.
  await expect(page.getByTestId("figures-as-of")).toHaveText(/^Figures as of \d\d:\d\d:\d\d UTC; they are computed at most every \d+ s\.$/);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Delivery", exact: true })).toHaveAttribute("aria-current", "page");

  const gauge = page.locator('svg[data-chart="share-total"]');
  await expect(gauge).toHaveAttribute("role", "img");
  await expect(gauge.locator("title").first()).toHaveText("Share of orders ready within one hour of submission");
  await expect(gauge.locator("text").first()).toHaveText(/^\d+(\.\d)?%$/);
  await expect(gauge.locator('[data-bar="share"]')).toHaveCount(1);

  // One row with p50 and p95 bars per image that has deliveries.
  const perImage = page.locator('svg[data-chart="per-image"]');
  // (Other test files' orders may add rows of their own images.)
  await expect(perImage.locator('[data-row="linux-test"], [data-row="linux-db"]')).toHaveCount(2);
  expect(await perImage.locator("[data-row]").count()).toBe(await perImage.locator('rect[data-bar="p50"]').count());
  await expect(perImage.locator('[data-row="linux-test"] rect[data-bar="p50"]')).toHaveCount(1);
  await expect(perImage.locator('[data-row="linux-db"] rect[data-bar="p95"]')).toHaveCount(1);
  // One row per pipeline step, each with bars; estimates against actuals likewise.
  // (Other test files' teardowns and resets may add rows for halt, destroy and release.)
  const perStep = page.locator('svg[data-chart="per-step"]');
  const estimates = page.locator('svg[data-chart="estimates"]');
  const deploySteps = ["place", "resolve", "pack", "allocate", "storage", "unpack", "networking", "glue", "boot", "wait_ready", "handover"];
  for (const step of deploySteps) {
    await expect(perStep.locator(`[data-row="${step}"] rect[data-bar="p50"]`)).toHaveCount(1);
  }
  const stepRows = await perStep.locator("[data-row]").count();
  expect(stepRows).toBeGreaterThanOrEqual(deploySteps.length);
  await expect(perStep.locator('rect[data-bar="p50"]')).toHaveCount(stepRows);
  for (const step of deploySteps) {
    await expect(estimates.locator(`[data-row="${step}"] rect[data-bar="actual"]`)).toHaveCount(1);
    await expect(estimates.locator(`[data-row="${step}"] rect[data-bar="estimate"]`)).toHaveCount(1);
  }
  const bootWidth = Number(await perStep.locator('[data-row="boot"] rect[data-bar="p50"]').getAttribute("width"));
  expect(bootWidth).toBeGreaterThan(20); // a sim step takes 400 ms; the portal's own steps far less

  await expect(page.getByTestId("order-counts")).toContainText("Delivered");
  await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });

  // The numbers as a table too.
  const imagesCard = page.getByTestId("chart-images");
  await imagesCard.getByText("Show as table").click();
  await expect(imagesCard.getByRole("table")).toContainText("Linux database server");

  // A range with no orders says so.
  await page.getByLabel("From (UTC)").fill("2020-01-01 00:00");
  await page.getByLabel("To (UTC)").fill("2020-01-02 00:00");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("dashboard-empty")).toContainText("No orders in this range");
  await page.getByRole("link", { name: "24 hours" }).click();
  await expect(page.locator('svg[data-chart="per-image"]')).toBeVisible();
});

test("the audit log filters by action and actor, pages, and exports what it shows as CSV", async ({ page, request }) => {
  const o = await orderViaApi(request, { image: "linux-test", flavor: "small", name: uniqueName("aud") });
  await page.goto("/admin/audit");
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await expect(page.getByTestId("audit-row").first()).toBeVisible();
  // The admin's browser sign-in is on record with its address.
  await page.getByLabel("Action").fill("auth.sign_in");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=auth.sign_in/);
  const signIns = page.getByTestId("audit-row");
  await expect(signIns.first()).toContainText("127.0.0.1");
  await expect(page.locator('[data-testid="audit-row"]:not([data-action="auth.sign_in"])')).toHaveCount(0);

  await page.getByRole("link", { name: "Clear filters" }).click();
  // The cleared page is shown (its fields empty) before the next filter is typed.
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByLabel("Action")).toHaveValue("");
  await page.getByLabel("Actor").fill(ADMIN.email);
  await page.getByLabel("Target").fill(o.id);
  await page.getByRole("button", { name: "Filter" }).click();
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-action", "order.create");
  await expect(rows.first()).toContainText(ADMIN.email);
  await expect(rows.first().getByText("queued", { exact: true })).toBeVisible();
  await page.screenshot({ path: "test-results/audit-filtered.png", fullPage: true });

  // Export what the filter shows.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
  expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
  const [header, ...cells] = parseCsv(readFileSync(await download.path(), "utf8"));
  expect(header.slice(0, 5)).toEqual(["id", "at", "actor_id", "actor_email", "action"]);
  expect(cells).toHaveLength(1);
  expect(cells[0][header.indexOf("action")]).toBe("order.create");
  expect(cells[0][header.indexOf("target_id")]).toBe(o.id);

  // Unfiltered, with more entries than one page.
  await page.goto("/admin/audit?perPage=5");
  await expect(page.getByTestId("audit-row")).toHaveCount(5);
  await expect(page.getByTestId("audit-count")).toContainText("Entries 1–5 of");
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByTestId("audit-count")).toContainText("Entries 6–10 of");
  // A filter the database could not compare with is left out, with a message, not an error page.
  await page.goto("/admin/audit?q=%00&action=order.create");
  await expect(page.getByRole("alert").filter({ hasText: "Some filters" })).toContainText("q: Contains a character that cannot be stored");
  await expect(page.getByTestId("audit-row").first()).toHaveAttribute("data-action", "order.create");
  await page.goto("/admin/audit");
  await page.screenshot({ path: "test-results/audit.png", fullPage: true });
});
