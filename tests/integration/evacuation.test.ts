/**
 * Host maintenance through the API on sim hosts, with real PostgreSQL, Redis and BullMQ
 * workers: evacuating a host moves every environment off it (running ones live, a stopped one
 * cold, `parallel` at a time, targets chosen by placement), then the host is offline; where
 * something cannot move the host stays draining and each environment says why; an evacuation
 * survives a worker restart; rebalancing proposes moves that even out memory use, runs them
 * with the plan's fingerprint and refuses a stale one; bad requests change nothing.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as evacuateRoute from "@/app/api/v1/hosts/[id]/evacuate/route";
import * as hostEvacuationRoute from "@/app/api/v1/hosts/[id]/evacuation/route";
import * as evacuationRoute from "@/app/api/v1/evacuations/[id]/route";
import * as stopRoute from "@/app/api/v1/evacuations/[id]/stop/route";
import * as evacuationEventsRoute from "@/app/api/v1/evacuations/[id]/events/route";
import * as rebalanceRoute from "@/app/api/v1/rebalance/route";
import * as migrateRoute from "@/app/api/v1/environments/[id]/migrate/route";
import { auditEvents, environments, evacuations, groupSettings, hosts, notifications, simObjects } from "@/lib/db/schema";
import { getQueue, evacuationJobId } from "@/lib/jobs/queues";
import { requestAction } from "@/lib/lifecycle/actions";
import type { EvacuationView } from "@/lib/fleet/queries";
import type { RebalancePlan } from "@/lib/fleet/rebalance";
import { usageOfHosts } from "@/lib/policy/placement";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForAction, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let adminToken: string;
let customer: Actor;
let customerToken: string;
let approverToken: string;
const tag = unique("ev");

type HostRow = typeof hosts.$inferSelect;

async function simHost(name: string, memoryMb = 16384): Promise<HostRow> {
  const [row] = await db
    .insert(hosts)
    .values({ name: `${tag}-${name}`, kind: "sim", address: `sim://${tag}-${name}`, cpuCapacity: 8, memoryMbCapacity: memoryMb, diskGbCapacity: 500, features: ["vms", "live-migration"], state: "offline" })
    .returning();
  return row!;
}

/** Only these hosts take environments (and count for placement and rebalancing); every other host is offline. */
async function onlyActive(...active: HostRow[]) {
  await db.update(hosts).set({ state: "offline" }).where(ne(hosts.state, "offline"));
  if (active.length) await db.update(hosts).set({ state: "active" }).where(inArray(hosts.id, active.map((h) => h.id)));
}

/** A delivered environment of the customer, placed on whichever host is active now. */
async function delivered(flavor: "small" | "medium", name: string) {
  const created = await order(db, customer, { image: "linux-test", flavor, name: `${tag}-${name}` });
  const view = await waitForOrder(db, created.id);
  expect(view.status, view.reason ?? "").toBe("ready");
  return { orderId: created.id, environmentId: view.environment!.id, hostname: view.environment!.hostname };
}

const hostState = async (h: HostRow) => (await db.select({ state: hosts.state }).from(hosts).where(eq(hosts.id, h.id)))[0]!.state;
const envRow = async (id: string) => (await db.select().from(environments).where(eq(environments.id, id)))[0]!;
const onHost = async (h: HostRow) => db.select({ id: environments.id }).from(environments).where(and(eq(environments.hostId, h.id), ne(environments.state, "deleted")));
const simGuest = async (h: HostRow, hostname: string) =>
  (await db.select({ state: simObjects.state }).from(simObjects).where(and(eq(simObjects.hostId, h.id), eq(simObjects.kind, "guest"), eq(simObjects.name, hostname))))[0]?.state ?? null;

async function evacuationOf(h: HostRow): Promise<EvacuationView> {
  const res = await invoke(hostEvacuationRoute.GET, "GET", `/api/v1/hosts/${h.id}/evacuation`, { token: adminToken, params: { id: h.id } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const finished = (h: HostRow, timeoutMs = 60_000) => waitFor(() => evacuationOf(h), (e) => e.status !== "running", { timeoutMs, intervalMs: 100, what: `the evacuation of ${h.name} to end` });

function evacuate(h: HostRow, body: unknown, token = adminToken) {
  return invoke(evacuateRoute.POST, "POST", `/api/v1/hosts/${h.id}/evacuate`, { token, params: { id: h.id }, body });
}

function rebalance(body: unknown, token = adminToken) {
  return invoke(rebalanceRoute.POST, "POST", "/api/v1/rebalance", { token, body });
}

/** The most moves of a batch that were under way at one time, from their recorded start and end. */
function mostAtOnce(moves: EvacuationView["moves"]): number {
  const edges = moves.flatMap((m) => [
    { at: Date.parse(m.startedAt!), d: 1 },
    { at: Date.parse(m.finishedAt!), d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  customerToken = await tokenFor(db, customer);
  approverToken = await tokenFor(db, await makeUser(db, "approver", group.slug));
  adminToken = await tokenFor(db, admin);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

describe("evacuating a host", () => {
  it("moves every environment off it, running ones live and a stopped one cold, two at a time to the hosts placement chooses; then the host is offline", async () => {
    const [a, b, c] = [await simHost("a"), await simHost("b"), await simHost("c")];
    await onlyActive(a);
    const ev1 = await delivered("small", "e1");
    const ev2 = await delivered("small", "e2");
    const ev3 = await delivered("medium", "e3");
    const stop = await requestAction(db, customer, ev2.environmentId, "stop");
    expect((await waitForAction(db, stop.id)).status).toBe("succeeded");
    // Each move takes a moment on the source (the sim's step time), so moves overlap.
    await db.update(hosts).set({ config: { stepMs: 400 } }).where(eq(hosts.id, a.id));
    await onlyActive(a, b, c);
    const notifiedBefore = await db.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.userId, customer.id), eq(notifications.kind, "environment.moved")));

    const res = await evacuate(a, { parallel: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const started = res.body as EvacuationView;
    expect(started).toMatchObject({ kind: "evacuate", status: "running", parallel: 2, host: { id: a.id, name: a.name, state: "draining" }, counts: { total: 3 } });
    // Largest memory first.
    expect(started.moves.map((m) => m.environment.hostname)).toEqual([ev3.hostname, ev1.hostname, ev2.hostname]);
    expect(await hostState(a)).toBe("draining");
    const again = await evacuate(a, {});
    expect(again.status).toBe(409);
    expect(again.body.error).toBe(`An evacuation of ${a.name} is already running (${started.id}); follow it on the host's page`);

    // The event stream sends the evacuation at once and again as moves start and end.
    const abort = new AbortController();
    const stream = await evacuationEventsRoute.GET(
      new Request(`http://portal.test/api/v1/evacuations/${started.id}/events`, { headers: { authorization: `Bearer ${adminToken}` }, signal: abort.signal }),
      { params: Promise.resolve({ id: started.id }) },
    );
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const snapshots = () => [...text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as EvacuationView);
    while (snapshots().at(-1)?.status !== "completed" && snapshots().at(-1)?.status !== "incomplete") {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    abort.abort();
    expect(snapshots().some((s) => s.moves.some((m) => m.status === "moving" && m.to !== null))).toBe(true);

    const done = await finished(a);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    expect(done.outcome).toBe(`${a.name} is offline and holds no environment (3 environments moved)`);
    expect(done.counts).toEqual({ total: 3, pending: 0, moving: 0, moved: 3, failed: 0 });
    expect(await hostState(a)).toBe("offline");
    expect(await onHost(a)).toEqual([]);
    // Placement: most free memory, counting the moves already under way (e3's 4 GiB is on its way to b).
    const to = Object.fromEntries(done.moves.map((m) => [m.environment.hostname, m.to?.name]));
    expect(to).toEqual({ [ev3.hostname]: b.name, [ev1.hostname]: c.name, [ev2.hostname]: c.name });
    expect(mostAtOnce(done.moves)).toBe(2);
    for (const m of done.moves) {
      const env = await envRow(m.environment.id);
      expect(env.hostId).toBe(m.to!.id);
      if (m.environment.id === ev2.environmentId) {
        // Stopped: moved cold and still stopped; no downtime to speak of.
        expect(m).toMatchObject({ mode: "cold", downtimeMs: null });
        expect(env.state).toBe("stopped");
        expect(await simGuest(c, ev2.hostname)).toBe("stopped");
      } else {
        expect(m.mode).toBe("live");
        expect(m.downtimeMs).toEqual(expect.any(Number));
        expect(m.downtimeMs!).toBeGreaterThanOrEqual(0);
        expect(m.totalMs!).toBeGreaterThanOrEqual(400);
        expect(env.state).toBe("running");
        expect(await simGuest(m.to!.id === b.id ? b : c, m.environment.hostname)).toBe("running");
      }
      expect(m.durationMs!).toBeGreaterThan(0);
      expect(await simGuest(a, m.environment.hostname)).toBe("deleted");
    }
    // The owner hears of each move; the admin's request and the host going offline are audited.
    const notified = await db.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.userId, customer.id), eq(notifications.kind, "environment.moved")));
    expect(notified.length - notifiedBefore.length).toBe(3);
    const audit = await db.select().from(auditEvents).where(inArray(auditEvents.targetId, [a.id, ev1.environmentId, ev2.environmentId, ev3.environmentId]));
    expect(audit.find((e) => e.action === "host.evacuate")).toMatchObject({ actorId: admin.id, before: { state: "active" }, after: { state: "draining" }, data: { evacuation: started.id, parallel: 2, environments: 3 } });
    expect(audit.find((e) => e.action === "host.evacuated")).toMatchObject({ before: { state: "draining" }, after: { state: "offline" }, data: { evacuation: started.id, status: "completed" } });
    expect(audit.filter((e) => e.action === "environment.migrate" && (e.data as { evacuation?: string }).evacuation === started.id)).toHaveLength(2);
    expect(audit.filter((e) => e.action === "environment.move" && (e.data as { evacuation?: string }).evacuation === started.id)).toHaveLength(1);
    // The same answer by id.
    const byId = await invoke(evacuationRoute.GET, "GET", `/api/v1/evacuations/${started.id}`, { token: adminToken, params: { id: started.id } });
    expect(byId.body).toEqual(done);
  });

  it("what cannot move is listed with the reason; a failed migration leaves the guest running on the host, which stays draining", async () => {
    const d = await simHost("d");
    const e = await simHost("e", 2048);
    await onlyActive(d);
    const big = await delivered("medium", "fb");
    const s1 = await delivered("small", "fs1");
    const s2 = await delivered("small", "fs2");
    // The first migration off d fails (failure injection); e has room for one small guest only... and then the second.
    await db.update(hosts).set({ config: { failSteps: { migrate: 1 } } }).where(eq(hosts.id, d.id));
    await onlyActive(d, e);

    const res = await evacuate(d, { parallel: 1 });
    expect(res.status).toBe(202);
    const done = await finished(d);
    expect(done.status).toBe("incomplete");
    expect(done.outcome).toBe(`${d.name} stays draining: 2 of 3 environments could not move (each says why)`);
    const byName = Object.fromEntries(done.moves.map((m) => [m.environment.hostname, m]));
    expect(byName[big.hostname]).toMatchObject({ status: "failed", to: null, reason: `no other host has room for 2 vCPUs, 4096 MiB and 20 GiB (most free: ${e.name} with 2048 MiB, 32 vCPUs, 500 GiB free)` });
    expect(byName[s1.hostname]).toMatchObject({ status: "failed", mode: "live", to: { name: e.name } });
    expect(byName[s1.hostname]!.reason).toBe(`${d.name}: injected failure in step migrate (sim host failure injection); ${s1.hostname} keeps running on ${d.name}`);
    expect(byName[s2.hostname]).toMatchObject({ status: "moved", mode: "live", to: { name: e.name } });
    expect(await hostState(d)).toBe("draining");
    for (const env of [big, s1]) {
      expect(await envRow(env.environmentId)).toMatchObject({ hostId: d.id, state: "running" });
      expect(await simGuest(d, env.hostname)).toBe("running");
    }
    expect(await envRow(s2.environmentId)).toMatchObject({ hostId: e.id, state: "running" });
  });

  it("carries on after its worker stops: the next worker resumes the evacuation from the database", async () => {
    const f = await simHost("f");
    const g = await simHost("g");
    await onlyActive(f);
    const envs = [await delivered("small", "r1"), await delivered("small", "r2"), await delivered("small", "r3")];
    await db.update(hosts).set({ config: { stepMs: 700 } }).where(eq(hosts.id, f.id));
    await onlyActive(f, g);
    const res = await evacuate(f, { parallel: 1 });
    expect(res.status).toBe(202);
    const id = (res.body as EvacuationView).id;
    await waitFor(() => evacuationOf(f), (e) => e.counts.moved >= 1 && e.counts.moving === 1, { timeoutMs: 30_000, intervalMs: 50, what: "one move done and the next under way" });

    await worker.stop();
    // No worker: the rows say it runs, and its job waits in the queue for the next worker.
    const [row] = await db.select().from(evacuations).where(eq(evacuations.id, id));
    expect(row!.status).toBe("running");
    const job = await getQueue("fleet").getJob(evacuationJobId(id));
    expect(await job?.getState()).toBe("waiting");

    worker = await startWorkers();
    const done = await finished(f);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    expect(done.counts.moved).toBe(3);
    expect(await hostState(f)).toBe("offline");
    for (const env of envs) expect(await envRow(env.environmentId)).toMatchObject({ hostId: g.id, state: "running" });
  });
});

describe("bad requests change nothing", () => {
  it("stops on request: the moves under way finish, the others stay where they are and say who stopped them", async () => {
    const [a, b] = [await simHost("sa"), await simHost("sb")];
    await onlyActive(a);
    for (const name of ["stop1", "stop2", "stop3", "stop4"]) await delivered("small", name);
    await onlyActive(a, b);
    // Slow moves off a, so the evacuation can be stopped while it runs.
    await db.update(hosts).set({ config: { stepMs: 400 } }).where(eq(hosts.id, a.id));
    const started = await evacuate(a, { parallel: 1 });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.id as string;
    await waitFor(() => evacuationOf(a), (e) => e.counts.moving === 1, { timeoutMs: 30_000, intervalMs: 50, what: "the first move to start" });
    const stop = (token = adminToken, evacuationId = id) => invoke(stopRoute.POST, "POST", `/api/v1/evacuations/${evacuationId}/stop`, { token, params: { id: evacuationId } });
    expect((await stop(customerToken)).status).toBe(403);
    const res = await stop();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const view = res.body as EvacuationView;
    expect(view.counts.pending).toBe(0);
    const left = view.moves.filter((m) => m.status === "failed");
    expect(left.length).toBeGreaterThanOrEqual(1);
    for (const m of left) expect(m.reason).toBe("stopped before it started, by admin@portal.test");

    const done = await finished(a);
    expect(done.status).toBe("incomplete");
    expect(done.outcome).toBe(`${a.name} stays draining: the evacuation was stopped; ${left.length} environment${left.length === 1 ? "" : "s"} stayed`);
    expect(done.counts).toMatchObject({ total: 4, moved: 4 - left.length, failed: left.length, pending: 0, moving: 0 });
    expect(await hostState(a)).toBe("draining");
    expect((await onHost(a)).length).toBe(left.length);
    expect((await stop()).status).toBe(409);
    expect((await stop(adminToken, "00000000-0000-4000-8000-000000000000")).status).toBe(404);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "evacuation.stop"), eq(auditEvents.targetId, id)));
    expect(audit.map((e) => e.data)).toEqual([{ movesStopped: left.length }]);
    await db.update(hosts).set({ config: {} }).where(eq(hosts.id, a.id));
  });

  it("refuses parallel out of range, unknown hosts and non-admins with a clear answer", async () => {
    const h = await simHost("v");
    await onlyActive(h);
    await delivered("small", "v1");
    const before = await db.select({ id: evacuations.id }).from(evacuations);
    for (const parallel of [0, 9, 1.5, "2", null]) {
      const r = await evacuate(h, { parallel });
      expect(r.status, JSON.stringify(parallel)).toBe(422);
      expect(r.body.fields.parallel[0]).toMatch(/^Moves at a time: a whole number from 1 to 8$|expected number/);
    }
    const extra = await evacuate(h, { parallel: 2, force: true });
    expect(extra.status).toBe(422);
    const unknown = "00000000-0000-4000-8000-00000000dead";
    expect((await invoke(evacuateRoute.POST, "POST", `/api/v1/hosts/${unknown}/evacuate`, { token: adminToken, params: { id: unknown }, body: {} })).status).toBe(404);
    expect((await invoke(evacuateRoute.POST, "POST", "/api/v1/hosts/not-a-uuid/evacuate", { token: adminToken, params: { id: "not-a-uuid" }, body: {} })).status).toBe(404);
    for (const token of [customerToken, approverToken]) {
      const r = await evacuate(h, { parallel: 2 }, token);
      expect(r.status).toBe(403);
      expect(r.body.error).toBe("Your role does not allow this");
      expect((await invoke(hostEvacuationRoute.GET, "GET", `/api/v1/hosts/${h.id}/evacuation`, { token, params: { id: h.id } })).status).toBe(403);
      expect((await rebalance({ kind: "sim", dryRun: true }, token)).status).toBe(403);
    }
    const never = await invoke(hostEvacuationRoute.GET, "GET", `/api/v1/hosts/${h.id}/evacuation`, { token: adminToken, params: { id: h.id } });
    expect(never.status).toBe(404);
    expect(never.body.error).toBe(`An evacuation of ${h.name} not found`);
    expect(await hostState(h)).toBe("active");
    expect(await db.select({ id: evacuations.id }).from(evacuations)).toEqual(before);

    expect((await rebalance({ kind: "vmware", dryRun: true })).body.fields.kind).toEqual(["Choose a host kind: sim, qemu, xen, zones"]);
    expect((await rebalance({ kind: "sim" })).status).toBe(422);
    const unsigned = await rebalance({ kind: "sim", dryRun: false });
    expect(unsigned.status).toBe(422);
    expect(unsigned.body.fields.fingerprint).toEqual(["Running a plan needs its fingerprint, as the dry run returned it"]);
    expect((await rebalance({ kind: "sim", dryRun: false, fingerprint: "abc" })).body.fields.fingerprint).toEqual(["The plan's fingerprint, as the dry run returned it (64 hex digits)"]);
    expect(await db.select({ id: evacuations.id }).from(evacuations)).toEqual(before);
  });
});

describe("rebalancing memory use across sim hosts", () => {
  it("proposes moves that even hosts out, runs them with the plan's fingerprint, and refuses a stale one", async () => {
    const [r1, r2, r3] = [await simHost("r1"), await simHost("r2"), await simHost("r3")];
    await onlyActive(r1);
    const heavy = [await delivered("medium", "m1"), await delivered("medium", "m2"), await delivered("medium", "m3")];
    await onlyActive(r2);
    await delivered("small", "s1");
    await onlyActive(r1, r2, r3);

    const dry = await rebalance({ kind: "sim", dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    const plan = dry.body as RebalancePlan;
    const figures = Object.fromEntries(plan.hosts.map((h) => [h.name, [h.before.memoryMb, h.after.memoryMb]]));
    // r1 holds 12 GiB of 16 (75 %), r2 1 GiB, r3 nothing: two 4 GiB guests leave r1, one to each.
    expect(figures).toEqual({ [r1.name]: [12288, 4096], [r2.name]: [1024, 5120], [r3.name]: [0, 4096] });
    expect(plan.spread).toEqual({ before: 75, after: 6.3 });
    expect(plan.moves).toHaveLength(2);
    expect(new Set(plan.moves.map((m) => m.to.name))).toEqual(new Set([r2.name, r3.name]));
    for (const m of plan.moves) expect(m).toMatchObject({ from: { name: r1.name }, memoryMb: 4096, mode: "live" });
    expect(plan.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // Looking changed nothing, and looking again gives the same plan.
    expect((await rebalance({ kind: "sim", dryRun: true })).body).toEqual(plan);
    expect(await Promise.all(heavy.map(async (h) => (await envRow(h.environmentId)).hostId))).toEqual([r1.id, r1.id, r1.id]);

    // The fleet changes (a new environment on r3): the plan the admin saw is no longer what would run.
    await onlyActive(r3);
    await delivered("small", "s2");
    await onlyActive(r1, r2, r3);
    const stale = await rebalance({ kind: "sim", dryRun: false, fingerprint: plan.fingerprint });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toBe("The hosts or their environments changed since this plan was made; look at the new plan and run that one");
    expect(await Promise.all(heavy.map(async (h) => (await envRow(h.environmentId)).hostId))).toEqual([r1.id, r1.id, r1.id]);

    const fresh = (await rebalance({ kind: "sim", dryRun: true })).body as RebalancePlan;
    expect(fresh.fingerprint).not.toBe(plan.fingerprint);
    const run = await rebalance({ kind: "sim", dryRun: false, fingerprint: fresh.fingerprint });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect(run.body).toMatchObject({ kind: "rebalance", status: "running", host: null, hostKind: "sim", counts: { total: fresh.moves.length } });
    const done = await waitFor(
      async () => (await invoke(evacuationRoute.GET, "GET", `/api/v1/evacuations/${run.body.id}`, { token: adminToken, params: { id: run.body.id } })).body as EvacuationView,
      (e) => e.status !== "running",
      { timeoutMs: 60_000, intervalMs: 100, what: "the rebalance to end" },
    );
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    // Each environment is where the plan said, and every host's memory use is the plan's "after".
    for (const m of fresh.moves) expect((await envRow(m.environmentId)).hostId).toBe(m.to.id);
    const used = await usageOfHosts(db, [r1.id, r2.id, r3.id]);
    for (const h of fresh.hosts) expect(used.get(h.id)?.memoryMb ?? 0).toBe(h.after.memoryMb);
    expect(Math.max(...fresh.hosts.map((h) => h.after.percent)) - Math.min(...fresh.hosts.map((h) => h.after.percent))).toBeLessThan(
      Math.max(...fresh.hosts.map((h) => h.before.percent)) - Math.min(...fresh.hosts.map((h) => h.before.percent)),
    );
    // The same fingerprint cannot run twice: the fleet is another one now.
    expect((await rebalance({ kind: "sim", dryRun: false, fingerprint: fresh.fingerprint })).status).toBe(409);
    const audit = await db.select().from(auditEvents).where(eq(auditEvents.action, "hosts.rebalance"));
    expect(audit.map((a) => (a.data as { evacuation: string }).evacuation)).toContain(run.body.id);
  });

  it("keeps a group's environments on its own hosts: a pooled group's guests are not proposed elsewhere", async () => {
    const [p1, p2] = [await simHost("p1"), await simHost("p2")];
    const pooled = await makeGroup(db, { autoApprove: true });
    await db.insert(groupSettings).values({ groupId: pooled.id, hostIds: [p1.id] });
    const member = await makeUser(db, "customer", pooled.slug);
    await onlyActive(p1);
    const own = [];
    for (const name of ["q1", "q2", "q3"]) {
      const created = await order(db, member, { image: "linux-test", flavor: "medium", name: `${tag}-${name}` });
      const view = await waitForOrder(db, created.id);
      expect(view.status, view.reason ?? "").toBe("ready");
      own.push(view.environment!.id);
    }
    const free = await delivered("medium", "q4");
    await onlyActive(p1, p2);
    const plan = (await rebalance({ kind: "sim", dryRun: true })).body as RebalancePlan;
    // Only the environment of a group without a pool may leave p1 for p2.
    expect(plan.moves.map((m) => m.environmentId)).toEqual([free.environmentId]);
    expect(plan.notes).toEqual([]);
    for (const id of own) expect(plan.moves.some((m) => m.environmentId === id)).toBe(false);
  });

  it("a move under way holds its room on the target: a new order and another move do not take it meanwhile", async () => {
    // The target has room for one medium environment (4 GiB) only.
    const [source, target] = [await simHost("rs"), await simHost("rt", 4096)];
    await onlyActive(source);
    const first = await delivered("medium", "hold1");
    const second = await delivered("medium", "hold2");
    await onlyActive(source, target);
    const migrate = (env: string) =>
      invoke(migrateRoute.POST, "POST", `/api/v1/environments/${env}/migrate`, { token: adminToken, params: { id: env }, body: { host: target.name } });
    // Workers take no lifecycle job for a while: the first move stays queued, under way.
    const lifecycle = getQueue("lifecycle");
    await lifecycle.pause();
    let move: { id: string };
    try {
      const queued = await migrate(first.environmentId);
      expect(queued.status, JSON.stringify(queued.body)).toBe(202);
      move = queued.body;
      expect((await usageOfHosts(db, [target.id])).get(target.id)).toMatchObject({ environments: 0, memoryMb: 4096, vcpus: 2 });

      // Another move there is refused, naming what is left.
      const refused = await migrate(second.environmentId);
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body.error).toContain(`${target.name} has no room for 2 vCPUs, 4096 MiB and 20 GiB (free: 30 vCPUs, 0 MiB, 480 GiB)`);

      // A new order finds no room there either.
      await onlyActive(target);
      const created = await order(db, customer, { image: "linux-test", flavor: "medium", name: `${tag}-hold3` });
      const view = await waitForOrder(db, created.id);
      expect(view.status).toBe("failed");
      expect(view.reason).toContain("No host has room for 2 vCPUs, 4096 MiB and 20 GiB");
      expect(await onHost(target)).toEqual([]);
      await onlyActive(source, target);
    } finally {
      await lifecycle.resume();
    }
    // Once the move has switched over, the room is the environment's own: counted once.
    const done = await waitForAction(db, move.id);
    expect(done.status, done.error ?? "").toBe("succeeded");
    expect((await envRow(first.environmentId)).hostId).toBe(target.id);
    expect((await usageOfHosts(db, [target.id])).get(target.id)).toMatchObject({ environments: 1, memoryMb: 4096, vcpus: 2 });
    expect((await envRow(second.environmentId)).hostId).toBe(source.id);
  });
});
