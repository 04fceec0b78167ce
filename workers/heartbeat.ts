import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { env, workerId } from "@/lib/env";
import { heartbeat } from "@/lib/workers/registry";

/**
 * This worker's entry in the workers' register: jobs running and done, beaten every few
 * seconds (a third of WORKER_OFFLINE_MS, so one missed beat does not make it offline).
 */
export function startHeartbeat(db: Db) {
  const counts = { concurrency: env.WORKER_CONCURRENCY, jobsRunning: 0, jobsDone: 0 };
  const beat = () => heartbeat(db, counts).catch((err) => console.error(`[worker] heartbeat of ${workerId}:`, err.message));
  const timer = setInterval(() => void beat(), Math.max(500, Math.floor(env.WORKER_OFFLINE_MS / 3)));
  return {
    beat,
    /** The processor `fn`, counted: running while it runs, done when it returns or throws. */
    counted<A extends unknown[], R>(fn: (job: Job, ...rest: A) => Promise<R>) {
      return async (job: Job, ...rest: A): Promise<R> => {
        counts.jobsRunning++;
        try {
          return await fn(job, ...rest);
        } finally {
          counts.jobsRunning--;
          counts.jobsDone++;
        }
      };
    },
    stop: () => clearInterval(timer),
  };
}
