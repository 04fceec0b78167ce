import { and, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { pipelineRuns, pipelineSteps } from "../db/schema";
import { enqueueRun } from "../jobs/queues";
import { provisionSteps, teardownSteps } from "./steps";

type RunKind = "provision" | "destroy";

/** Creates a run and its step rows (in the caller's transaction). Enqueue after commit. */
export async function createRun(db: Db, orderId: string, kind: RunKind) {
  const [run] = await db.insert(pipelineRuns).values({ orderId, kind }).returning();
  const steps = kind === "provision" ? provisionSteps : teardownSteps;
  await db.insert(pipelineSteps).values(
    steps.map((s, position) => ({ runId: run.id, position, phase: s.phase, name: s.name })),
  );
  return run;
}

export async function latestRun(db: Db, orderId: string, kind?: RunKind) {
  const [run] = await db
    .select()
    .from(pipelineRuns)
    .where(kind ? and(eq(pipelineRuns.orderId, orderId), eq(pipelineRuns.kind, kind)) : eq(pipelineRuns.orderId, orderId))
    .orderBy(desc(pipelineRuns.createdAt))
    .limit(1);
  return run ?? null;
}

/** How long an order's submission waits for Redis before leaving the run to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Puts a run on the queue. The database already says the run is queued; if Redis is
 * unreachable now, the reconciler enqueues it later, so the order is never lost.
 */
export async function dispatchRun(run: { id: string; attempt: number }): Promise<boolean> {
  try {
    await Promise.race([
      enqueueRun({ runId: run.id, attempt: run.attempt }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("enqueue timed out")), ENQUEUE_TIMEOUT_MS).unref()),
    ]);
    return true;
  } catch (err) {
    console.error(`[jobs] could not enqueue run ${run.id}; the reconciler will retry:`, (err as Error).message);
    return false;
  }
}

/**
 * Makes a failed run runnable again from its failed step: steps that succeeded keep their
 * result, failed ones go back to pending, and the run gets a new attempt (a new job).
 */
export async function resetFailedRun(db: Db, runId: string) {
  await db
    .update(pipelineSteps)
    .set({ status: "pending", error: null })
    .where(and(eq(pipelineSteps.runId, runId), inArray(pipelineSteps.status, ["failed", "running"])));
  const [run] = await db
    .select()
    .from(pipelineRuns)
    .where(eq(pipelineRuns.id, runId));
  const [updated] = await db
    .update(pipelineRuns)
    .set({ status: "queued", error: null, attempt: run.attempt + 1, finishedAt: null })
    .where(eq(pipelineRuns.id, runId))
    .returning();
  return updated;
}
