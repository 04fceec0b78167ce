/**
 * GET /metrics as Prometheus scrapes it: only with the metrics token or from an allowed
 * address; its text parsed with a Prometheus text-format parser; the series follow what the
 * portal did (orders delivered by real BullMQ workers, steps, hosts, queues, backups); the
 * Grafana dashboard that ships with the portal asks only for series that are served.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import * as metricsRoute from "@/app/metrics/route";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import { environments, hosts } from "@/lib/db/schema";
import { PEER_HEADER } from "@/lib/http/client-address";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { sampleUsage } from "@/lib/usage/sample";
import { invoke } from "../helpers/http";
import { histogramSeries, parsePrometheusText, type Family } from "../helpers/prometheus-text";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitForAction, waitForOrder, type Actor } from "../helpers/portal";

const TOKEN = vi.hoisted(() => {
  const token = "metrics-token-for-the-tests-0123456789";
  process.env.METRICS_TOKEN = token;
  process.env.METRICS_ALLOW = "10.9.8.0/24,::1";
  // Every scrape reads anew (in production the text is reused for a few seconds).
  process.env.METRICS_CACHE_MS = "0";
  return token;
});

const { db } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", auto.slug);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

async function scrape(headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  return invoke<string>(metricsRoute.GET as never, "GET", "/metrics", { headers });
}

/** The families of one scrape, parsed as Prometheus would, by name. */
async function families(): Promise<Map<string, Family>> {
  const res = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.body);
}

function value(f: Family | undefined, labels: Record<string, string>): number | undefined {
  return f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function series(f: Family | undefined, labels: Record<string, string>) {
  return f ? histogramSeries(f).find((h) => Object.entries(labels).every(([k, v]) => h.labels[k] === v)) : undefined;
}

describe("who may scrape", () => {
  it("no token and an address outside METRICS_ALLOW: 401 asking for the token; a wrong token too", async () => {
    const none = await scrape({});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect(String(none.body)).toContain("Authorization: Bearer <METRICS_TOKEN>");
    expect((await scrape({ authorization: "Bearer wrong-token-of-the-same-length-0000" })).status).toBe(401);
    expect((await scrape({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await scrape({ [PEER_HEADER]: "10.9.9.1" })).status).toBe(401);
  });

  it("the token, or a connection from an allowed address, gets the text", async () => {
    expect((await scrape()).status).toBe(200);
    expect((await scrape({ [PEER_HEADER]: "10.9.8.77" })).status).toBe(200);
    expect((await scrape({ [PEER_HEADER]: "::1" })).status).toBe(200);
    // A client cannot claim an allowed address through X-Forwarded-For (no trusted proxy here).
    expect((await scrape({ [PEER_HEADER]: "10.9.9.1", "x-forwarded-for": "10.9.8.1" })).status).toBe(401);
  });
});

describe("what it says", () => {
  it("follows orders delivered by the workers: counts by status, delivery and step histograms, hosts and queues", async () => {
    const before = await families();
    const readyBefore = value(before.get("portal_orders"), { status: "ready" }) ?? 0;
    const deliveredBefore = series(before.get("portal_delivery_seconds"), { image: "linux-test" })?.count ?? 0;
    const bootsBefore = series(before.get("portal_step_duration_seconds"), { step: "boot", host_kind: "sim" })?.count ?? 0;

    const created = await Promise.all([0, 1].map(() => order(db, customer)));
    for (const c of created) expect((await waitForOrder(db, c.id)).status).toBe("ready");

    const after = await families();
    expect(value(after.get("portal_orders"), { status: "ready" })).toBe(readyBefore + 2);
    expect(value(after.get("portal_environments"), { state: "running" })).toBeGreaterThanOrEqual(2);

    // Histograms: cumulative buckets ending at +Inf with the count, per image and per step.
    expect(after.get("portal_delivery_seconds")?.type).toBe("histogram");
    const linux = series(after.get("portal_delivery_seconds"), { image: "linux-test" })!;
    expect(linux.count).toBe(deliveredBefore + 2);
    const counts = linux.buckets.map(([, n]) => n);
    expect(linux.buckets.map(([le]) => le)).toEqual([...linux.buckets.map(([le]) => le)].sort((a, b) => a - b));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(linux.buckets.at(-1)).toEqual([Infinity, linux.count]);
    // Sim steps take no time here: every delivery is within the first bucket (a minute).
    expect(linux.buckets[0]).toEqual([60, linux.count]);
    expect(linux.sum).toBeGreaterThan(0);
    expect(linux.sum).toBeLessThan(60 * linux.count);
    expect(series(after.get("portal_step_duration_seconds"), { step: "boot", host_kind: "sim" })?.count).toBe(bootsBefore + 2);

    // Hosts: capacity as registered, and what the new environments were given.
    const [env] = await db.select().from(environments).where(eq(environments.orderId, created[0].id));
    const [host] = await db.select().from(hosts).where(eq(hosts.id, env.hostId!));
    expect(value(after.get("portal_host_capacity"), { host: host.name, resource: "vcpus" })).toBe(host.cpuCapacity);
    expect(value(after.get("portal_host_capacity"), { host: host.name, resource: "memory_bytes" })).toBe(host.memoryMbCapacity * 1024 ** 2);
    expect(value(after.get("portal_host_allocated"), { host: host.name, resource: "vcpus" })).toBeGreaterThanOrEqual(env.vcpus);
    expect(value(after.get("portal_host_state"), { host: host.name, state: "active" })).toBe(1);
    expect(value(after.get("portal_host_state"), { host: host.name, state: "offline" })).toBe(0);

    // Queues, the worker's heartbeat and this process's own figures.
    for (const queue of ["provision", "lifecycle", "maintenance", "mail"]) {
      expect(value(after.get("portal_queue_jobs"), { queue, state: "waiting" }), queue).toBeGreaterThanOrEqual(0);
    }
    expect(after.get("portal_worker_heartbeat_age_seconds")?.samples.length).toBeGreaterThanOrEqual(1);
    expect(after.get("process_resident_memory_bytes")?.samples[0].value).toBeGreaterThan(0);
  }, 60_000);

  it("gives each environment's newest successful backup its age, and none to one never backed up", async () => {
    const [backedUp, never] = await Promise.all([0, 1].map(async () => (await waitForOrder(db, (await order(db, customer)).id)).environment!));
    const token = await tokenFor(db, customer);
    const res = await invoke(backupsRoute.POST, "POST", `/api/v1/environments/${backedUp.id}/backups`, { token, params: { id: backedUp.id } });
    expect(res.status).toBe(202);
    expect((await waitForAction(db, res.body.actionId)).status).toBe("succeeded");
    const ages = (await families()).get("portal_backup_age_seconds");
    const age = value(ages, { environment: backedUp.hostname });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
    expect(value(ages, { environment: never.hostname })).toBeUndefined();
  }, 60_000);
});

describe("the Grafana dashboard in lib/metrics/grafana", () => {
  it("asks only for series /metrics serves, and every panel asks for one", async () => {
    // Hosts' use is served once they have been sampled (the worker's first round may still run).
    await sampleUsage(db, { owner: null });
    const served = new Set<string>();
    for (const f of (await families()).values()) {
      served.add(f.name);
      for (const s of f.samples) served.add(s.name);
    }
    const dashboard = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../lib/metrics/grafana/portal-dashboard.json"), "utf8"));
    const panels = (dashboard.panels as { title: string; targets?: { expr: string }[] }[]).filter((p) => p.targets);
    expect(panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of panels) {
      const names = panel.targets!.flatMap((t) => [...t.expr.matchAll(/\b(?:portal|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]));
      expect(names.length, `panel "${panel.title}" asks for no portal series`).toBeGreaterThan(0);
      for (const name of names) expect(served.has(name), `panel "${panel.title}" asks for ${name}, which /metrics does not serve`).toBe(true);
    }
  }, 30_000);
});
