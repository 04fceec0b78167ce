import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { stepEstimator } from "@/lib/delivery/queries";
import { executeRun, failRun } from "@/lib/pipeline/engine";

/** Runs one pipeline run; the engine resumes at the first unfinished step. */
export function provisionProcessor(db: Db, signal: AbortSignal) {
  return async (job: Job) => {
    const { runId } = queues.provision.payload.parse(job.data);
    try {
      return await executeRun(db, runId, signal, { estimate: stepEstimator(db) });
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last && !signal.aborted) {
        console.error(`[worker] run ${runId} gave up after ${job.attemptsMade + 1} attempts:`, err);
        await failRun(db, runId, "The worker could not complete this step after several attempts; retry the order or ask an admin");
      }
      throw err;
    }
  };
}
