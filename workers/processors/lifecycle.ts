import type { Job } from "bullmq";
import { isDatabaseUnavailable, type Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { executeAction, failAction, startEnvironment, stopEnvironment, type ActionHandlers } from "@/lib/lifecycle/actions";
import { migrateEnvironment } from "@/lib/lifecycle/migrate";
import { deleteSnapshot, revertSnapshot, takeSnapshot } from "@/lib/lifecycle/snapshots";
import { resizeEnvironment } from "@/lib/lifecycle/resize";
import { changeCredentials } from "@/lib/lifecycle/credentials";
import { runServiceIpChange } from "@/lib/lifecycle/service-ips";
import { backupEnvironment, restoreEnvironment, verifyBackup } from "@/lib/backups/actions";
import { giveBack, untilDatabaseAnswers } from "../interruptions";

/**
 * What each kind of lifecycle action runs. Live migration and cold move both run the
 * driver's `migrate` (lib/lifecycle/migrate.ts), which says which one it did; a kind without
 * a handler fails its action with "not available in this version".
 */
export const lifecycleHandlers: ActionHandlers = {
  start: startEnvironment,
  stop: stopEnvironment,
  migrate: migrateEnvironment,
  move: migrateEnvironment,
  snapshot: takeSnapshot,
  revert: revertSnapshot,
  delete_snapshot: deleteSnapshot,
  resize: resizeEnvironment,
  backup: backupEnvironment,
  restore: restoreEnvironment,
  verify: verifyBackup,
  credentials: changeCredentials,
  attach_ip: runServiceIpChange,
  detach_ip: runServiceIpChange,
};

/**
 * Runs one lifecycle action (start, stop, migrate, move) from its environment_actions row. A
 * database outage is waited out and the action resumed; an action cut off by the worker's
 * shutdown goes back to the queue without spending an attempt.
 */
export function lifecycleProcessor(db: Db, signal: AbortSignal, handlers: ActionHandlers = lifecycleHandlers) {
  return async (job: Job, token?: string) => {
    const { actionId } = queues.lifecycle.payload.parse(job.data);
    for (;;) {
      try {
        return await executeAction(db, actionId, handlers, signal);
      } catch (err) {
        if (signal.aborted) await giveBack(job, token, err);
        if (isDatabaseUnavailable(err)) {
          console.error(`[worker] action ${actionId}: the database is unavailable (${(err as Error).message}); waiting to resume it`);
          // Stopping while waiting: the job goes back to the queue as it is.
          await untilDatabaseAnswers(db, signal).catch((waitErr: unknown) => (signal.aborted ? giveBack(job, token, err) : Promise.reject(waitErr)));
          continue;
        }
        await giveUp(db, job, actionId, err);
      }
    }
  };
}

/** The action's job failed: on its last attempt the action is marked failed, so the page says so. */
async function giveUp(db: Db, job: Job, actionId: string, err: unknown): Promise<never> {
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (last) {
    console.error(`[worker] action ${actionId} gave up after ${job.attemptsMade + 1} attempts:`, err);
    await failAction(db, actionId, "The worker could not complete this action after several attempts; try again or ask an admin");
  }
  throw err;
}
