import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderViaApi } from "./helpers";

const sameOrigin = { Origin: BASE_URL };

test.describe("the Usage card on the order page", () => {
  test.use({ storageState: authFile("customer"), viewport: { width: 390, height: 844 } });

  test("a delivered sim environment shows its use in charts, and the range switches", async ({ page, browser }) => {
    const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name: uniqueName("use") });
    const approver = await browser.newContext({ storageState: authFile("approver") });
    expect((await approver.request.post(`/api/v1/orders/${created.id}/approve`, { data: {}, headers: sameOrigin })).status()).toBe(200);
    await approver.close();
    const environmentId = await expect
      .poll(async () => ((await (await page.request.get(`/api/v1/orders/${created.id}`)).json()) as { status: string }).status, { timeout: 60_000 })
      .toBe("ready")
      .then(async () => ((await (await page.request.get(`/api/v1/orders/${created.id}`)).json()) as { environment: { id: string } }).environment.id);
    // The worker samples every few seconds here (USAGE_SAMPLE_MS in e2e/server.mjs): two samples give a CPU rate.
    await expect
      .poll(async () => {
        const usage = (await (await page.request.get(`/api/v1/environments/${environmentId}/usage?range=1h`)).json()) as { points: { cpuPercent: number | null }[] };
        return usage.points.filter((p) => p.cpuPercent !== null).length;
      }, { timeout: 60_000 })
      .toBeGreaterThan(0);

    await page.goto(`/orders/${created.id}`);
    const card = page.getByTestId("usage-card");
    await expect(card.getByRole("heading", { name: "Usage" })).toBeVisible();
    await expect(card.getByRole("link", { name: "Last hour" })).toHaveAttribute("aria-current", "true");
    for (const chart of ["usage-cpu", "usage-memory", "usage-disk", "usage-network"]) await expect(card.locator(`svg[data-chart="${chart}"]`)).toBeVisible();
    // A line through the points, or a dot where a point stands alone; the figures are in the chart's description too.
    await expect(card.locator('svg[data-chart="usage-cpu"] path[data-line="cpu"]')).toHaveAttribute("d", /^M[\d.]+ [\d.]+/);
    await expect(card.locator('svg[data-chart="usage-cpu"] desc')).toHaveText(/latest CPU \d+%/);
    await expect(card.locator('svg[data-chart="usage-cpu"] [data-dot="cpu"], svg[data-chart="usage-cpu"] path[data-line="cpu"][d*="L"]').first()).toBeVisible();
    await expect(card.locator('svg[data-chart="usage-memory"] path[data-line="memory"]')).toHaveAttribute("d", /^M/);
    await expect(card.locator('svg[data-chart="usage-cpu"]')).toContainText("100%");
    await expect(card.locator('svg[data-chart="usage-memory"]')).toContainText(/MiB|GiB/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    await card.getByRole("link", { name: "Last 30 days" }).click();
    await expect(page).toHaveURL(/usage=30d/);
    await expect(card.getByRole("link", { name: "Last 30 days" })).toHaveAttribute("aria-current", "true");
    await expect(card.locator('svg[data-chart="usage-cpu"]')).toBeVisible();

    await card.getByRole("link", { name: "Last day" }).click();
    await expect(page).toHaveURL(/usage=1d/);
    await expect(card.locator('svg[data-chart="usage-memory"] path[data-line="memory"]')).toHaveAttribute("d", /^M/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  });
});
