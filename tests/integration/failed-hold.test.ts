/**
 * Failed orders stop holding capacity: an order that failed at Allocate (its network is full)
 * keeps its host and addresses for FAILED_HOLD_HOURS, shown on the order, then the maintenance
 * sweep (run through the real queue with a chosen clock) releases its environment, addresses
 * and the objects built on the host through the teardown path; the order stays failed and says
 * so, and a retry starts again from choosing a host. Host usage (hosts list, placement) counts
 * only environments that exist on their hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, ne } from "drizzle-orm";
import { auditEvents, environments, hosts, ipAllocations, pipelineRuns, simObjects } from "@/lib/db/schema";
import { createNetwork } from "@/lib/net/networks";
import { destroyEnvironment, orderView, retryOrder } from "@/lib/orders/queries";
import { listHostsWithUsage } from "@/lib/hosts/queries";
import { candidateHosts } from "@/lib/policy/placement";
import { enqueueMaintenance, getQueue } from "@/lib/jobs/queues";
import { env } from "@/lib/env";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { allocationsOf, bootPortal, makeGroup, makeUser, order, orderStatus, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;

beforeAll(async () => {
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

const HOUR_MS = 3_600_000;

/** A /30 with its gateway: room for exactly one guest. */
function tinyNetwork(slug: string, third: number) {
  return createNetwork(db, admin, { slug, name: `Tiny ${third}`, purpose: "production", cidr: `10.99.${third}.0/30`, gateway: `10.99.${third}.1`, bridge: "br-tiny", macPrefix: "02:00:00" });
}

/** One lease sweep through the real queue and worker at `now`; returns the orders it released. */
async function sweepAt(now: Date): Promise<string[]> {
  const id = await enqueueMaintenance({ task: "leases", now: now.toISOString() });
  const queue = getQueue("maintenance");
  const state = await waitFor(async () => (await queue.getJob(id!))?.getState(), (s) => s === "completed" || s === "failed", { what: `maintenance job ${id}` });
  const job = await queue.getJob(id!);
  expect(state, job?.failedReason).toBe("completed");
  return (job!.returnvalue as { released: string[] }).released;
}

/** What the hosts list says is used, summed over the sim hosts, and what really exists there. */
async function usage() {
  const listed = (await listHostsWithUsage(db)).filter((h) => h.kind === "sim");
  const live = await db
    .select({ memoryMb: environments.memoryMb, state: environments.state })
    .from(environments)
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .where(and(eq(hosts.kind, "sim"), ne(environments.state, "deleted")));
  return {
    listed: listed.reduce((n, h) => n + h.used.environments, 0),
    listedMemoryMb: listed.reduce((n, h) => n + h.used.memoryMb, 0),
    running: live.filter((e) => e.state === "running"),
    // What placement sees as taken (capacity minus free), over the same hosts.
    placementMemoryMb: (await candidateHosts(db, ["sim"], { lock: false })).reduce((n, c) => {
      const host = listed.find((h) => h.id === c.id)!;
      return n + host.capacity.memoryMb - c.freeMemoryMb;
    }, 0),
  };
}

async function liveObjectsOf(hostname: string) {
  return (await db.select().from(simObjects)).filter((o) => (o.name === hostname || o.name === `${hostname}.tar`) && o.state !== "deleted");
}

describe("a failed order's hold", () => {
  it("holds its host and addresses for FAILED_HOLD_HOURS, then releases them; usage counts only what exists; a retry starts from choosing a host", async () => {
    expect(env.FAILED_HOLD_HOURS).toBe(24);
    const tiny = await tinyNetwork("tiny", 7);
    const first = await order(db, customer, { network: tiny.slug });
    expect((await waitForOrder(db, first.id)).status).toBe("ready");

    // The network is full now: the second order fails at Allocate, after Choose host, Resolve and Pack.
    const second = await order(db, customer, { network: tiny.slug });
    const failed = await waitForOrder(db, second.id);
    expect(failed.status).toBe("failed");
    expect(failed.steps.find((s) => s.status === "failed")?.name).toBe("allocate");
    expect(failed.environment?.state).toBe("creating");
    expect((await allocationsOf(db, second.id)).map((a) => a.network)).toEqual(["service"]);
    expect((await liveObjectsOf(failed.name)).map((o) => o.kind)).toContain("image-pack");

    const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, second.id));
    const failedAt = run.finishedAt!;
    expect(failed.hold).toEqual({ state: "holding", until: new Date(failedAt.getTime() + 24 * HOUR_MS).toISOString() });

    // Usage: the failed order built nothing on its host, so only the delivered one counts.
    const before = await usage();
    expect(before.running).toHaveLength(1);
    expect(before.listed).toBe(1);
    expect(before.listedMemoryMb).toBe(before.running[0].memoryMb);
    expect(before.placementMemoryMb).toBe(before.running[0].memoryMb);

    // Within the hold nothing is released.
    expect(await sweepAt(new Date(failedAt.getTime() + 23 * HOUR_MS))).toEqual([]);
    expect((await orderView(db, second.id)).hold?.state).toBe("holding");

    // After it: the teardown path releases the environment, the addresses and the host objects.
    expect(await sweepAt(new Date(failedAt.getTime() + 24 * HOUR_MS + 60_000))).toEqual([failed.name]);
    const released = await waitFor(() => orderView(db, second.id), (v) => v.teardown?.status === "succeeded" || v.teardown?.status === "failed", {
      what: "the release's teardown",
    });
    expect(released.teardown?.status).toBe("succeeded");
    expect(released.status).toBe("failed");
    expect(released.hold?.state).toBe("released");
    expect(released.reason).toMatch(/^Step "Allocate IPs and MACs" failed: .*Held 24 hours for a retry, then its host and addresses were released; a retry starts again from choosing a host$/);
    expect(released.environment?.state).toBe("deleted");
    expect(await allocationsOf(db, second.id)).toEqual([]);
    expect(await liveObjectsOf(failed.name)).toEqual([]);
    const audits = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "order.release"), eq(auditEvents.targetId, second.id)));
    expect(audits).toHaveLength(1);
    expect(await usage()).toMatchObject({ listed: 1, listedMemoryMb: before.running[0].memoryMb });

    // Released once: a later sweep finds nothing more to do.
    expect(await sweepAt(new Date(failedAt.getTime() + 48 * HOUR_MS))).toEqual([]);
    expect(await db.select().from(pipelineRuns).where(and(eq(pipelineRuns.orderId, second.id), eq(pipelineRuns.kind, "destroy")))).toHaveLength(1);

    // Free the network's one address, then retry: a new delivery from choosing a host.
    await destroyEnvironment(db, customer, first.id);
    expect((await waitForOrder(db, first.id, ["retired", "failed"])).status).toBe("retired");
    expect((await retryOrder(db, customer, second.id)).status).toBe("queued");
    const again = await waitForOrder(db, second.id);
    expect(again.status, again.reason ?? "").toBe("ready");
    expect(again.steps.map((s) => [s.name, s.status, s.attempt])).toEqual(again.steps.map((s) => [s.name, "succeeded", 1]));
    expect(again.steps[0].log.map((l) => l.line).join("\n")).toMatch(/^placed on sim-\d/);
    expect(again.teardown).toBeNull();
    expect(again.hold).toBeNull();
    expect(again.environment?.state).toBe("running");
    expect((await allocationsOf(db, second.id)).map((a) => a.network).sort()).toEqual(["service", "tiny"]);
    const provisions = await db.select().from(pipelineRuns).where(and(eq(pipelineRuns.orderId, second.id), eq(pipelineRuns.kind, "provision")));
    expect(provisions.map((r) => r.status).sort()).toEqual(["failed", "succeeded"]);
    expect((await usage()).listed).toBe(1);
    expect((await orderStatus(db, first.id)).status).toBe("retired");
    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, first.id))).toEqual([]);
  });

  it("a retry within the hold resumes at the failed step on the same host", async () => {
    const tiny = await tinyNetwork("tiny-two", 8);
    const blocker = await order(db, customer, { network: tiny.slug });
    expect((await waitForOrder(db, blocker.id)).status).toBe("ready");
    const stuck = await order(db, customer, { network: tiny.slug });
    const failed = await waitForOrder(db, stuck.id);
    expect(failed.status).toBe("failed");
    expect(failed.hold?.state).toBe("holding");
    await destroyEnvironment(db, customer, blocker.id);
    await waitForOrder(db, blocker.id, ["retired", "failed"]);
    await retryOrder(db, customer, stuck.id);
    const view = await waitForOrder(db, stuck.id);
    expect(view.status).toBe("ready");
    expect(view.environment?.host).toBe(failed.environment?.host);
    expect(view.steps.find((s) => s.name === "place")?.attempt).toBe(1);
    expect(view.steps.find((s) => s.name === "allocate")?.attempt).toBe(2);
  });
});
