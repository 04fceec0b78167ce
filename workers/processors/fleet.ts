import type { Job } from "bullmq";
import { isDatabaseUnavailable, type Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { runEvacuation } from "@/lib/fleet/runner";
import { giveBack, untilDatabaseAnswers } from "../interruptions";

/**
 * Follows one batch of moves (host evacuation or rebalance) until every move has ended. When
 * the worker stops (`drain`), the job goes back to the queue as it is and the next worker
 * resumes from the rows; the moves under way go on as their own lifecycle jobs meanwhile. A
 * database outage is waited out.
 */
export function fleetProcessor(db: Db, drain: AbortSignal) {
  return async (job: Job, token?: string) => {
    const { evacuationId } = queues.fleet.payload.parse(job.data);
    for (;;) {
      try {
        const status = await runEvacuation(db, evacuationId, drain);
        if (status === "interrupted") await giveBack(job, token);
        return status;
      } catch (err) {
        if (drain.aborted) await giveBack(job, token, err);
        if (isDatabaseUnavailable(err)) {
          console.error(`[worker] evacuation ${evacuationId}: the database is unavailable (${(err as Error).message}); waiting to resume it`);
          await untilDatabaseAnswers(db, drain).catch((waitErr: unknown) => (drain.aborted ? giveBack(job, token, err) : Promise.reject(waitErr)));
          continue;
        }
        throw err;
      }
    }
  };
}
