import { inArray } from "drizzle-orm";
import type { Queue } from "bullmq";
import type { Db } from "@/lib/db/client";
import { environmentActions, pipelineRuns } from "@/lib/db/schema";
import { actionJobId, enqueueLifecycle, enqueueRun, runJobId } from "@/lib/jobs/queues";

/**
 * The database is the source of truth: every run it says is queued or running must have a
 * live job. Jobs lost by Redis (restart without persistence, flush, failed enqueue) are
 * enqueued again; the engine's idempotent steps make a duplicate harmless.
 */
export async function reconcile(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[] }> {
  const inFlight = await db
    .select({ id: pipelineRuns.id, attempt: pipelineRuns.attempt })
    .from(pipelineRuns)
    .where(inArray(pipelineRuns.status, ["queued", "running"]));
  const requeued: string[] = [];
  for (const run of inFlight) {
    const job = await queue.getJob(runJobId(run.id, run.attempt));
    const state = job ? await job.getState() : "missing";
    if (state === "completed" || state === "failed") await job!.remove();
    if (state === "missing" || state === "unknown" || state === "completed" || state === "failed") {
      await enqueueRun({ runId: run.id, attempt: run.attempt });
      requeued.push(run.id);
    }
  }
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} run(s) missing from the queue`);
  return { checked: inFlight.length, requeued };
}

/** The same for lifecycle actions (start, stop, migrate, move) the database says are in flight. */
export async function reconcileActions(db: Db, queue: Queue): Promise<{ checked: number; requeued: string[] }> {
  const inFlight = await db
    .select({ id: environmentActions.id })
    .from(environmentActions)
    .where(inArray(environmentActions.status, ["queued", "running"]));
  const requeued: string[] = [];
  for (const action of inFlight) {
    const job = await queue.getJob(actionJobId(action.id));
    const state = job ? await job.getState() : "missing";
    if (state === "completed" || state === "failed") await job!.remove();
    if (state === "missing" || state === "unknown" || state === "completed" || state === "failed") {
      await enqueueLifecycle({ actionId: action.id });
      requeued.push(action.id);
    }
  }
  if (requeued.length) console.log(`[reconciler] re-enqueued ${requeued.length} lifecycle action(s) missing from the queue`);
  return { checked: inFlight.length, requeued };
}
