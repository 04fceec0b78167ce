import { setTimeout as sleep } from "node:timers/promises";
import { WaitingError, type Job } from "bullmq";
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db/client";

/**
 * What a processor does when its work is interrupted rather than failed: the database went
 * away (wait for it, then resume), or the worker is stopping (give the job back).
 */

/** How long a run waits for the database to come back before its job counts a failed attempt. */
const PATIENCE_MS = 10 * 60_000;

/**
 * Waits until the database answers again (a restart, a failover), polling with a growing
 * pause; throws when `signal` aborts (shutdown) or after PATIENCE_MS.
 */
export async function untilDatabaseAnswers(db: Db, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
    await sleep(pause, undefined, { signal });
    try {
      await db.execute(sql`select 1`);
      console.log("[worker] the database answers again; resuming");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** Puts the job back in the queue as it is (no attempt spent) for the next worker; always throws. */
export async function giveBack(job: Job, token: string | undefined, cause?: unknown): Promise<never> {
  try {
    await job.moveToWait(token);
  } catch {
    // Redis unreachable: the reconciler re-enqueues the work from the database.
    throw cause ?? new Error("the worker stopped before the job finished");
  }
  throw new WaitingError();
}
