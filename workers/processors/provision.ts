import { WaitingError, type Job } from "bullmq";
import { isDatabaseUnavailable, type Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { stepEstimator } from "@/lib/delivery/queries";
import { executeRun, failRun } from "@/lib/pipeline/engine";
import { LeaseLostError } from "@/lib/pipeline/lease";
import { restoreDiskStep } from "@/lib/backups/restore-step";
import { giveBack, untilDatabaseAnswers } from "../interruptions";

/** Steps the engine gets from other domains (it does not import them itself). */
const injectedSteps = { restore_disk: restoreDiskStep };

/**
 * Runs one pipeline run; the engine resumes at the first unfinished step.
 * - The database going away (a restart) is not the run's failure: the worker waits until it
 *   answers again and resumes the run, in the same job, without spending an attempt.
 * - `drain` (SIGTERM): the run stops after its current step and its job goes back to the
 *   queue, without spending an attempt, for the next worker to resume.
 */
export function provisionProcessor(db: Db, signal: AbortSignal, drain?: AbortSignal) {
  return async (job: Job, token?: string) => {
    const { runId } = queues.provision.payload.parse(job.data);
    for (;;) {
      try {
        const outcome = await executeRun(db, runId, signal, { estimate: stepEstimator(db), drain, steps: injectedSteps });
        if (outcome === "stopped") {
          console.log(`[worker] run ${runId} stopped between two steps; back in the queue for the next worker`);
          await giveBack(job, token);
        }
        return outcome;
      } catch (err) {
        if (err instanceof WaitingError) throw err;
        // Another worker took the run over (this one stalled past its lease): it is theirs now.
        if (err instanceof LeaseLostError) return "skipped";
        if (signal.aborted || drain?.aborted) await giveBack(job, token, err);
        if (isDatabaseUnavailable(err)) {
          console.error(`[worker] run ${runId}: the database is unavailable (${(err as Error).message}); waiting to resume it`);
          const stopping = drain ? AbortSignal.any([signal, drain]) : signal;
          // Stopping while waiting: the job goes back to the queue as it is.
          await untilDatabaseAnswers(db, stopping).catch((waitErr: unknown) => (stopping.aborted ? giveBack(job, token, err) : Promise.reject(waitErr)));
          continue;
        }
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (last) {
          console.error(`[worker] run ${runId} gave up after ${job.attemptsMade + 1} attempts:`, err);
          await failRun(db, runId, "The worker could not complete this step after several attempts; retry the order or ask an admin");
        }
        throw err;
      }
    }
  };
}
