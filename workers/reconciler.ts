import { and, eq, inArray, sql } from "drizzle-orm";
import type { Queue } from "bullmq";
import type { Db } from "@/lib/db/client";
import { environmentActions, environments, pipelineRuns } from "@/lib/db/schema";
import { actionJobId, enqueueEvacuation, enqueueLifecycle, enqueueMails, enqueueRun, enqueueTakeover, evacuationJobId, mailJobId, queueFor, runJobId } from "@/lib/jobs/queues";
import { runningEvacuationIds } from "@/lib/fleet/queries";
import { ownersOfOrders } from "@/lib/workers/routing";
import { ownerState, waitingSentence, type OwnerState } from "@/lib/workers/registry";
import { pendingMailIds } from "@/lib/mail/outbox";
import { env } from "@/lib/env";
import { expiredLeases, isExecutingHere } from "@/lib/pipeline/lease";

/**
 * The database is the source of truth: every run it says is queued or running must have a
 * live job. Jobs lost by Redis (restart without persistence, flush, failed enqueue) are
 * enqueued again; the engine's idempotent steps make a duplicate harmless. A running run whose
 * lease is live is being executed by a worker right now and is left alone; one whose lease
 * expired lost its worker and is taken over.
 */
export async function reconcile(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[]; takenOver: string[] }> {
  const inFlight = await db
    .select({
      id: pipelineRuns.id,
      orderId: pipelineRuns.orderId,
      attempt: pipelineRuns.attempt,
      status: pipelineRuns.status,
      leasedUntil: pipelineRuns.leasedUntil,
      leaseLive: sql<boolean>`coalesce(${pipelineRuns.leasedUntil} >= now(), false)`,
    })
    .from(pipelineRuns)
    .where(inArray(pipelineRuns.status, ["queued", "running"]));
  const requeued: string[] = [];
  const takenOver: string[] = [];
  // A run on an owned host has its job in its owner's queue (lib/workers/routing.ts).
  const owners = await ownersOfOrders(db, inFlight.map((r) => r.orderId));
  const ownerStateCache = new Map<string, Promise<OwnerState>>();
  for (const run of inFlight) {
    if (run.leaseLive || isExecutingHere(run.id)) continue;
    const owner = owners.get(run.orderId) ?? null;
    if (owner) await noteOwnerState(db, run.id, owner, ownerStateCache);
    // Its job is in the owner's queue, or still in the shared one it was first put in.
    let job = owner ? await queueFor("provision", owner).getJob(runJobId(run.id, run.attempt)) : undefined;
    if (!job) job = await queue.getJob(runJobId(run.id, run.attempt));
    const state = job ? await job.getState() : "missing";
    if (state === "completed" || state === "failed") await job!.remove();
    if (state === "missing" || state === "unknown" || state === "completed" || state === "failed") {
      await enqueueRun({ runId: run.id, attempt: run.attempt, owner });
      requeued.push(run.id);
    } else if (state === "active" && run.leasedUntil) {
      // Its job still looks active, but its worker stopped renewing the lease: gone.
      await enqueueTakeover({ runId: run.id, attempt: run.attempt, since: run.leasedUntil });
      takenOver.push(run.id);
    }
  }
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} run(s) missing from the queue`);
  if (takenOver.length) console.log(`[reconciler] took over ${takenOver.length} run(s) whose worker stopped renewing its lease`);
  return { checked: inFlight.length, requeued, takenOver };
}

/**
 * A run waiting in its owner's queue says whether that worker is offline (it may have gone
 * after the run was handed to it), and stops saying so once it is back.
 */
async function noteOwnerState(db: Db, runId: string, owner: string, cache: Map<string, Promise<OwnerState>>) {
  if (!cache.has(owner)) cache.set(owner, ownerState(db, owner));
  const state = await cache.get(owner)!;
  await db.update(pipelineRuns).set({ waitingFor: state.live ? null : waitingSentence(state) }).where(eq(pipelineRuns.id, runId));
}

/**
 * The quick check a worker runs every few seconds: runs whose lease expired (their worker was
 * killed or cut off) get a takeover job at once, without waiting for the job's lock to expire.
 */
export async function takeOverExpiredRuns(db: Db, queue: Queue): Promise<string[]> {
  const taken: string[] = [];
  for (const run of await expiredLeases(db)) {
    if (isExecutingHere(run.id) || !run.leasedUntil) continue;
    await enqueueTakeover({ runId: run.id, attempt: run.attempt, since: run.leasedUntil });
    taken.push(run.id);
  }
  // A worker killed after taking a job but before claiming its run left no lease to expire:
  // a job active for longer than a lease whose run nobody holds is taken over the same way.
  const stale = (await queue.getActive(0, 499)).filter((j) => j.processedOn && Date.now() - j.processedOn > env.RUN_LEASE_MS);
  const runIds = stale.map((j) => (j.data as { runId?: string }).runId).filter((id): id is string => typeof id === "string");
  if (runIds.length) {
    const unheld = await db
      .select({ id: pipelineRuns.id, attempt: pipelineRuns.attempt })
      .from(pipelineRuns)
      .where(and(inArray(pipelineRuns.id, runIds), inArray(pipelineRuns.status, ["queued", "running"]), sql`(${pipelineRuns.leasedUntil} is null or ${pipelineRuns.leasedUntil} < now())`));
    for (const run of unheld) {
      const job = stale.find((j) => (j.data as { runId?: string }).runId === run.id)!;
      if (isExecutingHere(run.id) || taken.includes(run.id)) continue;
      await enqueueTakeover({ runId: run.id, attempt: run.attempt, since: new Date(job.processedOn!) });
      taken.push(run.id);
    }
  }
  if (taken.length) console.log(`[worker] taking over ${taken.length} run(s) whose worker stopped renewing its lease`);
  return taken;
}

/**
 * Enqueues again each of `ids` (work the database says is waiting) whose job none of its
 * queues has, or has only as finished; returns those re-enqueued. Jobs waiting, delayed (a
 * retry's backoff) or active in any of them are left alone.
 */
async function requeueMissing(
  queuesOf: Queue | ((id: string) => Queue[]),
  ids: string[],
  jobIdOf: (id: string) => string,
  enqueue: (ids: string[]) => Promise<void>,
): Promise<string[]> {
  const missing: string[] = [];
  for (const id of ids) {
    let live = false;
    for (const queue of typeof queuesOf === "function" ? queuesOf(id) : [queuesOf]) {
      const job = await queue.getJob(jobIdOf(id));
      const state = job ? await job.getState() : "missing";
      if (state === "completed" || state === "failed") await job!.remove();
      else if (state !== "missing" && state !== "unknown") live = true;
    }
    if (!live) missing.push(id);
  }
  if (missing.length) await enqueue(missing);
  return missing;
}

/** The same for lifecycle actions (start, stop, migrate, move) the database says are in flight. */
export async function reconcileActions(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[] }> {
  const inFlight = await db
    .select({ id: environmentActions.id, orderId: environments.orderId })
    .from(environmentActions)
    .innerJoin(environments, eq(environments.id, environmentActions.environmentId))
    .where(inArray(environmentActions.status, ["queued", "running"]));
  const owners = await ownersOfOrders(db, inFlight.map((a) => a.orderId));
  const ownerOf = (actionId: string) => owners.get(inFlight.find((a) => a.id === actionId)!.orderId) ?? null;
  // An action on an owned host may still sit (or run) in the shared queue it was first put in:
  // the owner takes it from there too. Missing means missing from both.
  const queuesOf = (actionId: string) => {
    const owner = ownerOf(actionId);
    return owner ? [queueFor("lifecycle", owner), queue] : [queue];
  };
  const requeued = await requeueMissing(queuesOf, inFlight.map((a) => a.id), actionJobId, async (ids) => {
    for (const actionId of ids) await enqueueLifecycle({ actionId }, ownerOf(actionId));
  });
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} lifecycle action(s) missing from the queue`);
  return { checked: inFlight.length, requeued };
}

/**
 * The same for e-mails the outbox holds as pending: a lost enqueue, or Redis losing its data,
 * delays them until this pass, never loses them.
 */
export async function reconcileMail(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[] }> {
  const pending = await pendingMailIds(db);
  const requeued = await requeueMissing(queue, pending, mailJobId, enqueueMails);
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} e-mail(s) missing from the queue`);
  return { checked: pending.length, requeued };
}

/**
 * The same for host evacuations and rebalances the database says are running: each has its
 * job (waiting, or active in a worker), or gets one again.
 */
export async function reconcileEvacuations(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[] }> {
  const running = await runningEvacuationIds(db);
  const requeued = await requeueMissing(queue, running, evacuationJobId, async (ids) => {
    for (const evacuationId of ids) await enqueueEvacuation({ evacuationId });
  });
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} evacuation(s) missing from the queue`);
  return { checked: running.length, requeued };
}
