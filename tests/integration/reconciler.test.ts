/**
 * The database is the source of truth: runs it says are in flight but whose jobs Redis lost
 * are enqueued again by the reconciler and finish.
 */
import { afterAll, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { environments, hosts, ipAllocations, pipelineRuns, pipelineSteps, simObjects, stepLogs } from "@/lib/db/schema";
import { getQueue, runJobId } from "@/lib/jobs/queues";
import { executeRun } from "@/lib/pipeline/engine";
import { claimRun, LeaseLostError } from "@/lib/pipeline/lease";
import { reconcile } from "@/workers/reconciler";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { bootPortal, order, provisionSteps, waitFor, waitForOrder } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | undefined;

afterAll(async () => {
  await worker?.stop();
});

async function runOf(orderId: string) {
  const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, orderId));
  return run;
}

/** What Redis losing the job looks like: the run is in the database, its job is gone. */
async function loseJob(runId: string) {
  const queue = getQueue("provision");
  const job = await queue.getJob(runJobId(runId, 1));
  expect(job, "the order's job was enqueued").toBeDefined();
  await job!.remove();
  expect(await queue.getJob(runJobId(runId, 1))).toBeUndefined();
}

it("a run another worker holds a live lease on is neither executed here nor re-enqueued; once the lease expires it is taken over", async () => {
  const held = await order(db, admin);
  const run = await runOf(held.id);
  await loseJob(run.id);
  expect(await claimRun(db, run.id, "other-host:4242:abcdef")).toBe(true);
  expect(await executeRun(db, run.id)).toBe("skipped");
  expect((await provisionSteps(db, held.id)).every((s) => s.status === "pending")).toBe(true);
  expect((await reconcile(db, getQueue("provision"))).requeued).not.toContain(run.id);

  // That worker dies: nobody renews its lease.
  await db.update(pipelineRuns).set({ leasedUntil: sql`now() - interval '1 second'` }).where(eq(pipelineRuns.id, run.id));
  expect((await reconcile(db, getQueue("provision"))).requeued).toContain(run.id);
  expect(await executeRun(db, run.id)).toBe("succeeded");
  expect(await runOf(held.id)).toMatchObject({ status: "succeeded", leaseOwner: null, leasedUntil: null });
  await getQueue("provision").remove(runJobId(run.id, 1));
});

it("a worker whose lease was taken over (it stalled past it) stops at its next renewal and leaves the run to the new holder", async () => {
  await db.update(hosts).set({ config: { stepMs: 400 } }).where(eq(hosts.kind, "sim"));
  const created = await order(db, admin);
  const run = await runOf(created.id);
  await loseJob(run.id);
  const execution = executeRun(db, run.id);
  await waitFor(() => provisionSteps(db, created.id), (steps) => steps.some((s) => s.name === "storage" && s.status === "running"), { what: "storage to start", intervalMs: 20 });
  // Another worker found the lease expired and claimed the run.
  await db.update(pipelineRuns).set({ leaseOwner: "other-host:4242:abcdef", leasedUntil: sql`now() + interval '1 minute'` }).where(eq(pipelineRuns.id, run.id));
  const outcome = await execution.then(() => "finished", (err: unknown) => err);
  await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
  const running = (await provisionSteps(db, created.id)).filter((s) => s.status === "running");
  const after = await runOf(created.id);
  // (This run is nobody's business in the next test.)
  await db.update(pipelineRuns).set({ status: "cancelled", leaseOwner: null, leasedUntil: null }).where(eq(pipelineRuns.id, run.id));

  expect(outcome).toBeInstanceOf(LeaseLostError);
  // The step it was in (storage, or the next one if it finished before the renewal) is the new
  // holder's now: left running, and the lease left to it.
  expect(running).toHaveLength(1);
  expect(after).toMatchObject({ status: "running", leaseOwner: "other-host:4242:abcdef" });
});

it("re-enqueues a queued run and an interrupted running run whose jobs Redis lost; both finish, the interrupted one from its step", async () => {
  // 1. A queued run whose job vanished (e.g. Redis restarted without persistence).
  const queued = await order(db, admin);
  const queuedRun = await runOf(queued.id);
  await loseJob(queuedRun.id);

  // 2. A run a worker was executing when it went away, and whose job is gone too.
  await db.update(hosts).set({ config: { stepMs: 400 } }).where(eq(hosts.kind, "sim"));
  const interrupted = await order(db, admin);
  const interruptedRun = await runOf(interrupted.id);
  await loseJob(interruptedRun.id);
  const stop = new AbortController();
  const execution = executeRun(db, interruptedRun.id, stop.signal);
  await waitFor(() => provisionSteps(db, interrupted.id), (steps) => steps.some((s) => s.name === "storage" && s.status === "running"), { what: "storage to start", intervalMs: 20 });
  stop.abort();
  await expect(execution).rejects.toThrow();
  // The step cut off mid-way is to be done again, and its log says why.
  const [cut] = (await provisionSteps(db, interrupted.id)).filter((s) => s.status === "pending" && s.attempt === 1);
  expect(cut, "a step was cut off mid-way").toBeDefined();
  expect((await db.select().from(stepLogs).where(eq(stepLogs.stepId, cut.id))).map((l) => l.line)).toContain("interrupted: the worker stopped during this step; it runs again on the next worker");
  await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
  expect(await runOf(interrupted.id)).toMatchObject({ status: "running" });

  // The reconciler finds both, and only those.
  const first = await reconcile(db, getQueue("provision"));
  expect(first.requeued.sort()).toEqual([queuedRun.id, interruptedRun.id].sort());
  expect(first.checked).toBe(2);
  for (const id of first.requeued) expect(await getQueue("provision").getJob(runJobId(id, 1))).toBeDefined();
  // Jobs are there now: a second pass leaves them alone.
  expect((await reconcile(db, getQueue("provision"))).requeued).toEqual([]);

  worker = await startWorkers();
  const [a, b] = await Promise.all([waitForOrder(db, queued.id), waitForOrder(db, interrupted.id)]);
  expect(a.status).toBe("ready");
  expect(a.steps.every((s) => s.status === "succeeded" && s.attempt === 1)).toBe(true);
  expect(b.status).toBe("ready");
  for (const s of b.steps) {
    expect(s.status, s.name).toBe("succeeded");
    expect(s.attempt, s.name).toBe(s.name === cut.name ? 2 : 1);
  }

  // Nothing was built twice.
  expect(await db.select().from(environments).where(eq(environments.orderId, interrupted.id))).toHaveLength(1);
  expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, interrupted.id))).toHaveLength(2);
  expect(await db.select().from(simObjects).where(and(eq(simObjects.name, b.environment!.hostname)))).not.toHaveLength(0);
  const twice = (await db.select().from(simObjects)).filter((o) => o.createdCount > 1);
  expect(twice).toEqual([]);
  const steps = await db.select().from(pipelineSteps).where(eq(pipelineSteps.runId, interruptedRun.id));
  expect(steps.filter((s) => s.status !== "succeeded")).toEqual([]);
});
