import { and, desc, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, orders, pipelineRuns, pipelineSteps, snapshots } from "../db/schema";
import { enqueueOrLeave, enqueueRun } from "../jobs/queues";
import { provisionSteps, restoreStep, teardownSteps } from "./steps";

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

/**
 * Puts a run on the queue. The database already says the run is queued; if Redis is
 * unreachable now, the reconciler enqueues it later, so the order is never lost.
 */
export async function dispatchRun(run: { id: string; attempt: number }): Promise<boolean> {
  return enqueueOrLeave(`run ${run.id}`, () => enqueueRun({ runId: run.id, attempt: run.attempt }));
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

/**
 * Rebuilds a delivered environment from its image, in the caller's transaction: the same
 * order, host, name, IP and MAC addresses, with the guest and its disk removed and built
 * again. One provision run whose first steps are the teardown's "stop" and "remove" (the
 * driver's halt and destroy), then the whole deploy pipeline; every step is idempotent, so a
 * redelivered job or a retry resumes. The environment's snapshots go with its disk. Null when
 * the order is not ready (nothing changed).
 * With keepData the driver keeps the guest's data disk across the rebuild (the caller checked
 * that the host kind can). `imageVersionId` builds that version of the image (else its current
 * one); `restoreBackupId` puts that backup's disk in place of the kept one before the boot (a
 * rollback; with keepData). `from` also lets a failed order (a rebuild that failed) be rebuilt.
 * Enqueue the run (dispatchRun) after commit. Used by reinstall, courses' reset and patch campaigns.
 */
export async function createRebuildRun(
  tx: Db,
  orderId: string,
  reason: string,
  opts: { keepData?: boolean; imageVersionId?: string | null; restoreBackupId?: string | null; from?: ("ready" | "failed")[] } = {},
) {
  const moved = await tx
    .update(orders)
    .set({ status: "queued", reason, updatedAt: new Date() })
    .where(and(eq(orders.id, orderId), inArray(orders.status, opts.from ?? ["ready"])))
    .returning({ id: orders.id });
  if (moved.length === 0) return null;
  const [env] = await tx.update(environments).set({ state: "creating" }).where(eq(environments.orderId, orderId)).returning({ id: environments.id });
  // The rebuild removes the disk and with it the snapshots of it.
  if (env) await tx.update(snapshots).set({ status: "deleted", deletedAt: new Date() }).where(and(eq(snapshots.environmentId, env.id), ne(snapshots.status, "deleted")));
  const [run] = await tx
    .insert(pipelineRuns)
    .values({ orderId, kind: "provision", keepData: opts.keepData ?? false, imageVersionId: opts.imageVersionId ?? null, restoreBackupId: opts.restoreBackupId ?? null })
    .returning();
  const steps: { name: string; phase: "mk_image" | "mk_virtual" | "teardown" }[] = [...teardownSteps.filter((s) => s.name !== "release"), ...provisionSteps];
  if (opts.restoreBackupId) steps.splice(steps.findIndex((s) => s.name === "unpack") + 1, 0, restoreStep);
  await tx.insert(pipelineSteps).values(steps.map((s, position) => ({ runId: run.id, position, phase: s.phase, name: s.name })));
  return run;
}
