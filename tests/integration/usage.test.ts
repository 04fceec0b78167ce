/**
 * Usage sampling on sim hosts with a clock the test sets: a running environment's first
 * sample has no CPU rate yet, the next ones do (from the counters kept in the database); the
 * 10-minute averages equal the raw points they cover and a second roll-up changes nothing;
 * raw points go after 24 hours and averages after 30 days; the API shows the points to the
 * owner and admins only; /metrics serves the hosts' newest use.
 */
import { and, eq, lte } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as envUsageRoute from "@/app/api/v1/environments/[id]/usage/route";
import * as hostUsageRoute from "@/app/api/v1/hosts/[id]/usage/route";
import * as metricsRoute from "@/app/metrics/route";
import { environments, hosts, usageSamples } from "@/lib/db/schema";
import { rollUpUsage } from "@/lib/usage/rollup";
import { getQueue, queueFor } from "@/lib/jobs/queues";
import { workerId } from "@/lib/env";
import { sampleUsage } from "@/lib/usage/sample";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { parsePrometheusText } from "../helpers/prometheus-text";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitForOrder, type Actor } from "../helpers/portal";

vi.hoisted(() => {
  // The test drives the sampler with its own clock; the scheduler stays out of the way.
  process.env.USAGE_SAMPLE_MS = "3600000";
  process.env.METRICS_TOKEN = "metrics-token-for-the-usage-tests-0123";
  process.env.METRICS_CACHE_MS = "0";
});

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor, other: Actor;
let environmentId: string, hostId: string, hostName: string;
const MIN = 60_000;
// Half an hour ago, on a 10-minute boundary: twelve samples a minute apart from there.
const t0 = new Date(Math.floor((Date.now() - 30 * MIN) / (10 * MIN)) * 10 * MIN);
const at = (minutes: number) => new Date(t0.getTime() + minutes * MIN);

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  other = await makeUser(db, "customer", group.slug);
  worker = await startWorkers();
  const created = await order(db, customer);
  expect((await waitForOrder(db, created.id)).status).toBe("ready");
  const [e] = await db.select().from(environments).where(eq(environments.orderId, created.id));
  environmentId = e.id;
  hostId = e.hostId;
  hostName = (await db.select().from(hosts).where(eq(hosts.id, hostId)))[0].name;
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

// The worker's scheduler also samples once as it starts, at the real time: after the test's clock.
const rowsOf = (subjectId: string, resolution: "raw" | "10m") =>
  db.select().from(usageSamples).where(and(eq(usageSamples.subjectId, subjectId), eq(usageSamples.resolution, resolution), lte(usageSamples.at, at(12)))).orderBy(usageSamples.at);

describe("sampling a sim environment and its host", () => {
  it("the first sample has memory and disk but no CPU rate; later ones have CPU % and network rates", async () => {
    const first = await sampleUsage(db, { owner: null, now: at(0), hostIds: [hostId] });
    expect(first.skipped).toEqual([]);
    expect(first.environments).toBeGreaterThanOrEqual(1);
    for (let m = 1; m <= 12; m++) await sampleUsage(db, { owner: null, now: at(m), hostIds: [hostId] });
    const raw = await rowsOf(environmentId, "raw");
    expect(raw.map((r) => r.at.getTime())).toEqual(Array.from({ length: 13 }, (_, m) => at(m).getTime()));
    expect(raw[0].cpuPercent).toBeNull();
    expect(raw[0].memoryBytes).toBeGreaterThan(0);
    expect(raw[0].diskBytes).toBeGreaterThan(0);
    for (const r of raw.slice(1)) {
      // A small sim flavor: between 5 and 45 % of its vCPUs, some traffic both ways.
      expect(r.cpuPercent).toBeGreaterThan(1);
      expect(r.cpuPercent).toBeLessThan(50);
      expect(r.rxBytesPerSec).toBeGreaterThan(0);
      expect(r.txBytesPerSec).toBeGreaterThan(0);
    }
    // The host's point: its guests' use (sim reports no host of its own).
    const hostRaw = await rowsOf(hostId, "raw");
    expect(hostRaw).toHaveLength(13);
    expect(hostRaw[12].memoryBytes).toBeGreaterThanOrEqual(raw[12].memoryBytes!);
    expect(hostRaw[12].cpuPercent).toBeGreaterThan(0);
  });

  it("a second round at the same time adds nothing", async () => {
    await sampleUsage(db, { owner: null, now: at(12), hostIds: [hostId] });
    expect(await rowsOf(environmentId, "raw")).toHaveLength(13);
  });

  it("10-minute averages of finished buckets equal the raw points they cover; rolling up again changes nothing", async () => {
    const raw = await rowsOf(environmentId, "raw");
    const avg = await rowsOf(environmentId, "10m");
    // t0 is on a bucket boundary: minutes 0-9 are one finished bucket; 10-12 are in progress at minute 12.
    expect(avg.map((r) => r.at.getTime())).toEqual([t0.getTime()]);
    const bucket = raw.slice(0, 10);
    const cpu = bucket.map((r) => r.cpuPercent).filter((v): v is number => v !== null);
    expect(avg[0].points).toBe(10);
    expect(avg[0].cpuPercent).toBeCloseTo(cpu.reduce((a, v) => a + v, 0) / cpu.length, 3);
    expect(avg[0].memoryBytes).toBe(Math.round(bucket.reduce((a, r) => a + r.memoryBytes!, 0) / 10));
    const again = await rollUpUsage(db, at(12));
    expect(again.rolledUp).toBe(0);
    expect(await rowsOf(environmentId, "10m")).toEqual(avg);
  });

  it("the API gives the owner and admins the points of a range; others get 404; a bad range 422", async () => {
    const token = await tokenFor(db, customer);
    const hour = await invoke(envUsageRoute.GET as never, "GET", `/api/v1/environments/${environmentId}/usage?range=1h`, { token, params: { id: environmentId } });
    expect(hour.status).toBe(200);
    expect(hour.body.range).toBe("1h");
    const points = hour.body.points.filter((p: { at: string }) => Date.parse(p.at) <= at(12).getTime());
    expect(points).toHaveLength(13);
    expect(points.map((p: { at: string }) => p.at)).toEqual(Array.from({ length: 13 }, (_, m) => at(m).toISOString()));
    expect(points[0].cpuPercent).toBeNull();
    expect(points[5].cpuPercent).toBeGreaterThan(1);
    expect(points[5].memoryBytes).toBeGreaterThan(0);
    const month = await invoke(envUsageRoute.GET as never, "GET", `/api/v1/environments/${environmentId}/usage?range=30d`, { token: await tokenFor(db, admin), params: { id: environmentId } });
    expect(month.status).toBe(200);
    // Hourly averages of the one finished 10-minute bucket.
    expect(month.body.points).toHaveLength(1);
    expect(month.body.points[0].memoryBytes).toBeGreaterThan(0);
    const stranger = await invoke(envUsageRoute.GET as never, "GET", `/api/v1/environments/${environmentId}/usage`, { token: await tokenFor(db, other), params: { id: environmentId } });
    expect(stranger.status).toBe(404);
    const bad = await invoke(envUsageRoute.GET as never, "GET", `/api/v1/environments/${environmentId}/usage?range=2h`, { token, params: { id: environmentId } });
    expect(bad.status).toBe(422);
  });

  it("a host's use is for admins", async () => {
    const asAdmin = await invoke(hostUsageRoute.GET as never, "GET", `/api/v1/hosts/${hostId}/usage?range=1d`, { token: await tokenFor(db, admin), params: { id: hostId } });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.hostId).toBe(hostId);
    // 5-minute averages of the test's points (0-4, 5-9, 10-12 minutes).
    const points = asAdmin.body.points.filter((p: { at: string }) => Date.parse(p.at) <= at(12).getTime());
    expect(points).toHaveLength(3);
    for (const p of points) expect(p.memoryBytes).toBeGreaterThan(0);
    const asCustomer = await invoke(hostUsageRoute.GET as never, "GET", `/api/v1/hosts/${hostId}/usage`, { token: await tokenFor(db, customer), params: { id: hostId } });
    expect(asCustomer.status).toBe(403);
  });

  it("/metrics serves each host's newest CPU and memory use", async () => {
    await sampleUsage(db, { owner: null, now: new Date(), hostIds: [hostId] });
    const res = await invoke<string>(metricsRoute.GET as never, "GET", "/metrics", { headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    // The host families only: this process's own nodejs_* figures can be "Nan" this early after start.
    const families = parsePrometheusText(res.body.split("\n").filter((l) => l.includes("portal_host_")).join("\n") + "\n");
    const cpu = families.get("portal_host_cpu_used_percent")?.samples.find((s) => s.labels.host === hostName);
    const memory = families.get("portal_host_used")?.samples.find((s) => s.labels.host === hostName && s.labels.resource === "memory_bytes");
    expect(cpu?.value).toBeGreaterThan(0);
    expect(cpu?.value).toBeLessThanOrEqual(100);
    expect(memory?.value).toBeGreaterThan(0);
  });

  it("a host a worker owns is sampled only through that worker's own queue, which the worker schedules", async () => {
    const [owned] = await db
      .insert(hosts)
      .values({ name: unique("sim-owned"), kind: "sim", address: "sim://owned", state: "active", cpuCapacity: 4, memoryMbCapacity: 8192, diskGbCapacity: 100, ownerWorker: "another-worker" })
      .returning();
    try {
      const shared = await sampleUsage(db, { owner: null, now: at(13), hostIds: [owned.id] });
      expect(shared.hosts).toBe(0);
      const own = await sampleUsage(db, { owner: "another-worker", now: at(13), hostIds: [owned.id] });
      expect(own.hosts).toBe(1);
      // One point, from its owner's round: a host without guests uses nothing.
      expect(await db.select({ at: usageSamples.at, memoryBytes: usageSamples.memoryBytes }).from(usageSamples).where(eq(usageSamples.subjectId, owned.id))).toEqual([{ at: at(13), memoryBytes: 0 }]);
    } finally {
      await db.update(hosts).set({ state: "offline" }).where(eq(hosts.id, owned.id));
    }
    // This test's worker keeps the shared scheduler and one on its own queue.
    expect(await getQueue("maintenance").getJobScheduler("usage")).toMatchObject({ every: 3_600_000 });
    expect(await queueFor("maintenance", workerId).getJobScheduler("usage")).toMatchObject({ every: 3_600_000 });
  });

  it("a host that does not answer is skipped, said once in the log, and the others are sampled", async () => {
    const [dead] = await db
      .insert(hosts)
      .values({ name: unique("xen-dead"), kind: "xen", address: "xen-dead.invalid", state: "active", cpuCapacity: 8, memoryMbCapacity: 16384, diskGbCapacity: 500 })
      .returning();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const first = await sampleUsage(db, { owner: null, now: at(13), hostIds: [hostId, dead.id] });
      expect(first.skipped).toEqual([{ host: dead.name, reason: expect.stringContaining("no SSH user or key") }]);
      expect(first.hosts).toBe(1);
      expect(first.environments).toBeGreaterThanOrEqual(1);
      const second = await sampleUsage(db, { owner: null, now: at(14), hostIds: [hostId, dead.id] });
      expect(second.skipped).toHaveLength(1);
      // One line for the host, not one a round.
      expect(errors.mock.calls.filter((c) => String(c[0]).includes(dead.name))).toHaveLength(1);
      expect(await db.select().from(usageSamples).where(eq(usageSamples.subjectId, dead.id))).toEqual([]);
    } finally {
      errors.mockRestore();
      await db.update(hosts).set({ state: "offline" }).where(eq(hosts.id, dead.id));
    }
  });

  it("raw points go after 24 hours, the averages after 30 days", async () => {
    await rollUpUsage(db, new Date(at(12).getTime() + 24 * 60 * MIN + MIN));
    expect(await rowsOf(environmentId, "raw")).toHaveLength(0);
    expect(await rowsOf(environmentId, "10m")).toHaveLength(2);
    await rollUpUsage(db, new Date(at(12).getTime() + 30 * 24 * 60 * MIN + 20 * MIN));
    expect(await rowsOf(environmentId, "10m")).toHaveLength(0);
  });
});
