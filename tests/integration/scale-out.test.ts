/**
 * Several machines in one: two worker processes with their own WORKER_ID on the file's
 * database and Redis prefix. Work on a host a worker owns runs only there and waits for it
 * while it is offline. (Web processes side by side: e2e/scale-out.spec.ts, on two `next start`.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { environmentActions, hosts, pipelineRuns } from "@/lib/db/schema";
import { requestAction } from "@/lib/lifecycle/actions";
import { listWorkers, ownerState } from "@/lib/workers/registry";
import { bootPortal, order, unique, waitFor, waitForOrder } from "../helpers/portal";
import { killAllWorkers, startWorkerProcess, untilReady } from "../helpers/worker-process";

const { db, admin } = await bootPortal();

const OFFLINE_MS = 2000;
const workerEnv = (id: string) => ({ WORKER_ID: id, SIM_STEP_MS: "150", WORKER_OFFLINE_MS: String(OFFLINE_MS), RECONCILE_INTERVAL_MS: "1000", JOB_LOCK_MS: "3000" });

afterAll(async () => {
  await killAllWorkers();
});

/** Every step of the order's runs with the worker that ran it. */
async function stepWorkers(orderId: string) {
  const view = await waitForOrder(db, orderId, ["ready", "failed"], 60_000);
  return { status: view.status, steps: view.steps.map((s) => ({ name: s.name, worker: s.worker })) };
}

describe("hosts that belong to a worker", () => {
  it("runs every step of an order on an owned host on its owner only; with the owner offline the order waits with the reason, and finishes when it is back", async () => {
    const ownerId = unique("worker-a");
    const otherId = unique("worker-b");
    // Every sim host belongs to worker A, as a machine's local QEMU hosts do.
    await db.update(hosts).set({ ownerWorker: ownerId });
    let a = startWorkerProcess(workerEnv(ownerId));
    const b = startWorkerProcess(workerEnv(otherId));
    await Promise.all([untilReady(a), untilReady(b)]);

    const orders = await Promise.all([1, 2, 3, 4].map(() => order(db, admin)));
    for (const o of orders) {
      const ran = await stepWorkers(o.id);
      expect(ran.status, a.output() + b.output()).toBe("ready");
      for (const step of ran.steps) expect(step, `order ${o.id}`).toEqual({ name: step.name, worker: ownerId });
    }

    // The counts arrive with the next heartbeat.
    const workers = await waitFor(() => listWorkers(db, OFFLINE_MS), (ws) => (ws.find((w) => w.id === ownerId)?.jobsDone ?? 0) >= 4, { what: "worker A's count", timeoutMs: 5000 });
    const owner = workers.find((w) => w.id === ownerId)!;
    expect(owner).toMatchObject({ live: true, concurrency: 8 });
    expect(owner.hostsOwned.length).toBeGreaterThan(0);
    expect(owner.jobsDone).toBeGreaterThanOrEqual(4);
    expect(workers.find((w) => w.id === otherId)).toMatchObject({ live: true, hostsOwned: [] });

    // A stops; once its heartbeat is older than WORKER_OFFLINE_MS it is offline.
    a.kill("SIGTERM");
    expect((await a.exited).code).toBe(0);
    await waitFor(() => ownerState(db, ownerId, OFFLINE_MS), (s) => !s.live, { what: "worker A to be offline", timeoutMs: 15_000 });

    // A lifecycle action on A's host waits for A too, saying so.
    const view = await waitForOrder(db, orders[0].id, ["ready"]);
    const stop = await requestAction(db, admin, view.environment!.id, "stop");
    const waitingStop = await waitFor(
      () => db.select().from(environmentActions).where(eq(environmentActions.id, stop.id)),
      ([a]) => a.note?.startsWith("waiting for worker") ?? false,
      { what: "the stop to say what it waits for", timeoutMs: 20_000 },
    );
    expect(waitingStop[0]).toMatchObject({ status: "queued", note: expect.stringMatching(new RegExp(`^waiting for worker ${ownerId} \\(offline since `)) });

    const waiting = await order(db, admin);
    const [run] = await waitFor(
      () => db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, waiting.id)),
      (runs) => runs[0]?.waitingFor !== null && runs[0]?.waitingFor !== undefined,
      { what: "the order to say what it waits for", timeoutMs: 20_000 },
    );
    expect(run.waitingFor).toMatch(new RegExp(`^waiting for worker ${ownerId} \\(offline since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)$`));
    expect(run.status).toBe("queued");
    expect(b.output()).toContain(`its host belongs to worker ${ownerId} (offline); handed over to it`);
    // B does not run it and does not fail it, however long it waits.
    await new Promise((r) => setTimeout(r, OFFLINE_MS));
    const [still] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, waiting.id));
    expect(still.status).toBe("queued");

    a = startWorkerProcess(workerEnv(ownerId));
    await untilReady(a);
    const ran = await stepWorkers(waiting.id);
    expect(ran.status, a.output()).toBe("ready");
    for (const step of ran.steps) expect(step.worker, step.name).toBe(ownerId);
    const [done] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, waiting.id));
    expect(done.waitingFor).toBeNull();
    const [stopped] = await waitFor(
      () => db.select().from(environmentActions).where(eq(environmentActions.id, stop.id)),
      ([a]) => a.status === "succeeded" || a.status === "failed",
      { what: "the stop to finish on A", timeoutMs: 30_000 },
    );
    expect(stopped.status, stopped.error ?? "").toBe("succeeded");

    // Hosts back to any worker for the next test.
    await db.update(hosts).set({ ownerWorker: null }).where(inArray(hosts.ownerWorker, [ownerId]));
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    await Promise.all([a.exited, b.exited]);
  });
});

