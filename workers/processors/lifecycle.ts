import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { executeAction, failAction, startEnvironment, stopEnvironment, type ActionHandlers } from "@/lib/lifecycle/actions";
import { migrateEnvironment } from "@/lib/lifecycle/migrate";

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
};

/** Runs one lifecycle action (start, stop, migrate, move) from its environment_actions row. */
export function lifecycleProcessor(db: Db, signal: AbortSignal, handlers: ActionHandlers = lifecycleHandlers) {
  return async (job: Job) => {
    const { actionId } = queues.lifecycle.payload.parse(job.data);
    try {
      return await executeAction(db, actionId, handlers, signal);
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last && !signal.aborted) {
        console.error(`[worker] action ${actionId} gave up after ${job.attemptsMade + 1} attempts:`, err);
        await failAction(db, actionId, "The worker could not complete this action after several attempts; try again or ask an admin");
      }
      throw err;
    }
  };
}
