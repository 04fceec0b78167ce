import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { orderViaApi } from "./helpers";
import { authFile, BASE_URL, uniqueName } from "./users";

/**
 * Host maintenance in the browser (sim hosts): an admin evacuates sim-1 from its page, with a
 * confirmation, and watches each environment move to sim-2 with its downtime, until the page
 * says how it ended; then rebalances the sim hosts from the Rebalance page: the plan with each
 * host's memory before and after, "Run these moves", and the run followed to its end. Both
 * pages fit a 390 px phone. Last, an evacuation stopped from the page: what had not started
 * stays, saying who stopped it, and the host stays draining. Other tests' environments live on the sim hosts too: the checks are
 * on this test's own, and the hosts are put back as they were.
 */
test.use({ storageState: authFile("admin") });

const sameOrigin = { Origin: BASE_URL };
type HostItem = { id: string; name: string; kind: string; state: string; capacity: { memoryMb: number }; used: { memoryMb: number; environments: number } };
type PlanBody = { fingerprint: string; moves: unknown[]; hosts: { name: string; before: { memoryMb: number }; after: { memoryMb: number } }[] };

async function simHosts(api: APIRequestContext): Promise<Record<string, HostItem>> {
  const res = await api.get("/api/v1/hosts");
  expect(res.ok()).toBeTruthy();
  const { hosts } = (await res.json()) as { hosts: HostItem[] };
  return Object.fromEntries(hosts.filter((h) => h.kind === "sim").map((h) => [h.name, h]));
}

async function patchHost(api: APIRequestContext, id: string, body: Record<string, unknown>) {
  const res = await api.patch(`/api/v1/hosts/${id}`, { data: body, headers: sameOrigin });
  expect(res.status(), await res.text()).toBe(200);
}

async function fitsPhone(page: Page, what: string) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `test-results/${what}-390.png`, fullPage: true });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${what} is ${width} px wide at 390 px`).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1360, height: 900 });
}

/** `n` new delivered environments, all on `on` (`off` drains meanwhile and is active again after). */
async function environmentsOn(api: APIRequestContext, on: HostItem, off: HostItem, n: number, prefix: string) {
  await patchHost(api, off.id, { state: "draining" });
  await patchHost(api, on.id, { state: "active" });
  const made: { id: string; hostname: string }[] = [];
  for (let i = 0; i < n; i++) {
    const created = await orderViaApi(api, { image: "linux-test", flavor: "small", name: uniqueName(prefix) });
    await expect.poll(async () => ((await (await api.get(`/api/v1/orders/${created.id}`)).json()) as { status: string }).status, { timeout: 60_000 }).toBe("ready");
    const view = (await (await api.get(`/api/v1/orders/${created.id}`)).json()) as { environment: { host: string; hostname: string } };
    expect(view.environment.host).toBe(on.name);
    made.push({ id: created.id, hostname: view.environment.hostname });
  }
  await patchHost(api, off.id, { state: "active" });
  return made;
}

test.afterAll(async () => {
  // Both sim hosts active again, with their seeded memory, for the tests after this one.
  const api = await request.newContext({ baseURL: BASE_URL, storageState: authFile("admin"), extraHTTPHeaders: sameOrigin });
  for (const h of Object.values(await simHosts(api))) {
    await patchHost(api, h.id, { state: "active", capacity: { memoryMb: 65536 } });
    await patchHost(api, h.id, { capacity: { memoryMb: null } });
  }
  await api.dispose();
});

test("an admin evacuates a host and follows each move live, then rebalances the sim hosts from the plan", async ({ page }) => {
  test.setTimeout(180_000);
  const api = page.request;
  let hosts = await simHosts(api);
  const [sim1, sim2] = [hosts["sim-1"]!, hosts["sim-2"]!];
  // This test's two environments start on sim-1.
  const mine = await environmentsOn(api, sim1, sim2, 2, "evac");

  // Evacuate, from the host's page: a confirmation that says what happens, the number of moves at a time checked.
  await page.goto("/admin/hosts");
  await page.getByRole("article", { name: "Host sim-1" }).getByRole("link", { name: "Use and maintenance" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/hosts/${sim1.id}$`));
  const panel = page.getByTestId("evacuate-panel");
  await panel.getByRole("button", { name: "Evacuate…" }).click();
  const confirm = panel.getByRole("form", { name: "Evacuate sim-1" });
  await expect(confirm).toContainText("It is drained at once (no new environments)");
  await confirm.getByLabel("Moves at a time").fill("9");
  await confirm.getByRole("button", { name: "Evacuate sim-1" }).click();
  await expect(confirm.getByText("Moves at a time: a whole number from 1 to 8")).toBeVisible();
  expect((await simHosts(api))["sim-1"]!.state).toBe("active");
  await confirm.getByLabel("Moves at a time").fill("2");
  await confirm.getByRole("button", { name: "Evacuate sim-1" }).click();

  // The page follows it without a reload until it ends; each of this test's environments moved live with its downtime.
  const evacuation = panel.getByTestId("evacuation");
  await expect(evacuation).toHaveAttribute("data-status", /^(completed|incomplete)$/, { timeout: 90_000 });
  for (const m of mine) {
    const move = evacuation.locator(`[data-testid="evacuation-move"][data-environment="${m.hostname}"]`);
    await expect(move).toHaveAttribute("data-status", "moved");
    await expect(move).toContainText("sim-1 → sim-2");
    await expect(move).toContainText("live migration");
    await expect(move.getByTestId("move-downtime")).toHaveText(/^\d+(\.\d)? (ms|s)$/);
  }
  const outcome = evacuation.getByTestId("evacuation-outcome");
  if ((await evacuation.getAttribute("data-status")) === "completed") {
    await expect(outcome).toHaveText(/^sim-1 is offline and holds no environment \(\d+ environments? moved\)$/);
    await expect(page.getByTestId("host-state")).toHaveText("offline");
  } else {
    // Another test's environment that cannot move (e.g. still being built) keeps the host draining, and says why.
    await expect(outcome).toHaveText(/^sim-1 stays draining: \d+ of \d+ environments? could not move \(each says why\)$/);
    for (const failed of await evacuation.locator('[data-testid="evacuation-move"][data-status="failed"]').all()) await expect(failed.getByTestId("move-reason")).toHaveText(/^Not moved: .+/);
    await expect(page.getByTestId("host-state")).toHaveText("draining");
  }
  await fitsPhone(page, "evacuated-host");

  // Rebalance: sim-1 back in service and both hosts made small, so sim-2 is far fuller than sim-1.
  hosts = await simHosts(api);
  const size = Math.max(hosts["sim-1"]!.used.memoryMb, hosts["sim-2"]!.used.memoryMb) + 2048;
  await patchHost(api, sim1.id, { state: "active", capacity: { memoryMb: size } });
  await patchHost(api, sim2.id, { capacity: { memoryMb: size } });
  await page.goto("/admin/hosts");
  await page.getByRole("link", { name: "Rebalance memory use" }).click();
  await expect(page).toHaveURL(/\/admin\/hosts\/rebalance$/);
  await page.getByLabel("Host kind").selectOption("sim");
  await page.getByRole("button", { name: "Show plan" }).click();
  const plan = page.getByTestId("rebalance-plan");
  await expect(plan).toBeVisible();
  // The page shows the plan the API makes: the same moves and each host's memory before and after.
  const expected = (await (await api.post("/api/v1/rebalance", { data: { kind: "sim", dryRun: true }, headers: sameOrigin })).json()) as PlanBody;
  expect(expected.moves.length).toBeGreaterThan(0);
  await expect(plan).toHaveAttribute("data-moves", String(expected.moves.length));
  await expect(plan.getByTestId("rebalance-moves").locator("li")).toHaveCount(expected.moves.length);
  for (const h of expected.hosts) {
    const row = plan.locator(`[data-testid="rebalance-host"][data-host="${h.name}"]`);
    await expect(row.getByTestId("rebalance-before")).toContainText(h.before.memoryMb >= 1024 ? `${+(h.before.memoryMb / 1024).toFixed(1)} GiB of` : `${h.before.memoryMb} MiB of`);
    await expect(row.getByTestId("rebalance-after")).toContainText(h.after.memoryMb >= 1024 ? `${+(h.after.memoryMb / 1024).toFixed(1)} GiB of` : `${h.after.memoryMb} MiB of`);
  }
  await fitsPhone(page, "rebalance-plan");

  await page.getByRole("button", { name: "Run these moves" }).click();
  const run = page.getByTestId("evacuation");
  await expect(run).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  await expect(run.getByTestId("evacuation-outcome")).toHaveText(`${expected.moves.length} move${expected.moves.length === 1 ? "" : "s"} done`);
  // Each host now uses what the plan said it would.
  const after = await simHosts(api);
  for (const h of expected.hosts) expect(after[h.name]!.used.memoryMb).toBe(h.after.memoryMb);
});

test("an admin stops an evacuation: the moves under way finish, the others stay and say who stopped them", async ({ page }) => {
  test.setTimeout(180_000);
  const api = page.request;
  const hosts = await simHosts(api);
  const [sim1, sim2] = [hosts["sim-1"]!, hosts["sim-2"]!];
  // Three more environments on sim-2, so there is something left to stop after the first move.
  await environmentsOn(api, sim2, sim1, 3, "stop");

  await page.goto(`/admin/hosts/${sim2.id}`);
  const panel = page.getByTestId("evacuate-panel");
  await panel.getByRole("button", { name: "Evacuate…" }).click();
  const confirm = panel.getByRole("form", { name: "Evacuate sim-2" });
  await confirm.getByLabel("Moves at a time").fill("1");
  await confirm.getByRole("button", { name: "Evacuate sim-2" }).click();
  await panel.getByRole("button", { name: "Stop moving" }).click();

  const evacuation = panel.getByTestId("evacuation");
  await expect(evacuation).toHaveAttribute("data-status", "incomplete", { timeout: 90_000 });
  await expect(evacuation.getByTestId("evacuation-outcome")).toHaveText(/^sim-2 stays draining: the evacuation was stopped; \d+ environments? stayed$/);
  const stopped = evacuation.locator('[data-testid="evacuation-move"][data-status="failed"]');
  expect(await stopped.count()).toBeGreaterThan(0);
  await expect(stopped.first().getByTestId("move-reason")).toHaveText(/^Not moved: stopped before it started, by \S+@\S+$/);
  await expect(panel.getByRole("button", { name: "Stop moving" })).toHaveCount(0);
  await expect(page.getByTestId("host-state")).toHaveText("draining");
});
