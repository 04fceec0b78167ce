import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { pipelineRuns } from "../db/schema";
import { env, workerId } from "../env";

/**
 * Run leases: the worker executing a run holds a lease on it in PostgreSQL, renewed every
 * quarter of RUN_LEASE_MS while the run executes and released when it stops. A lease that
 * expired means its worker is gone (SIGKILL, a lost host): the run is taken over by another
 * worker at once instead of waiting for the job's lock. A live lease keeps every other worker
 * out, so two workers never execute one run. Times are the database's clock, shared by all.
 */

/** This process, as lease owner: host, pid and a random part (pids are reused). */
export const leaseOwner = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

const ttl = () => sql`now() + make_interval(secs => ${env.RUN_LEASE_MS / 1000})`;

/**
 * Claims the run for `owner` if nobody else holds a live lease on it and it is still to be
 * done; marks it running. False when another worker holds it (or it finished meanwhile).
 */
export async function claimRun(db: Db, runId: string, owner = leaseOwner): Promise<boolean> {
  const claimed = await db
    .update(pipelineRuns)
    .set({ status: "running", leaseOwner: owner, leasedUntil: ttl(), waitingFor: null, startedAt: sql`coalesce(${pipelineRuns.startedAt}, now())` })
    .where(
      and(
        eq(pipelineRuns.id, runId),
        sql`${pipelineRuns.status} in ('queued', 'running')`,
        sql`(${pipelineRuns.leaseOwner} is null or ${pipelineRuns.leaseOwner} = ${owner} or ${pipelineRuns.leasedUntil} < now())`,
        // A run placed on a host another worker owns is that worker's alone (lib/workers/routing.ts).
        sql`not exists (select 1 from environments e join hosts h on h.id = e.host_id
          where e.order_id = ${pipelineRuns.orderId} and e.state <> 'deleted' and h.owner_worker is not null and h.owner_worker <> ${workerId})`,
      ),
    )
    .returning({ id: pipelineRuns.id });
  return claimed.length === 1;
}

/** Extends the lease; false when it is no longer ours (taken over after it expired). */
export async function renewLease(db: Db, runId: string, owner = leaseOwner): Promise<boolean> {
  const renewed = await db
    .update(pipelineRuns)
    .set({ leasedUntil: ttl() })
    .where(and(eq(pipelineRuns.id, runId), eq(pipelineRuns.leaseOwner, owner)))
    .returning({ id: pipelineRuns.id });
  return renewed.length === 1;
}

/** Gives the run up (finished, or stopped for the next worker to resume at once). */
export async function releaseLease(db: Db, runId: string, owner = leaseOwner): Promise<void> {
  await db.update(pipelineRuns).set({ leaseOwner: null, leasedUntil: null }).where(and(eq(pipelineRuns.id, runId), eq(pipelineRuns.leaseOwner, owner)));
}

/** Runs in flight whose worker stopped renewing their lease: to be taken over. */
export async function expiredLeases(db: Db) {
  return db
    .select({ id: pipelineRuns.id, attempt: pipelineRuns.attempt, leaseOwner: pipelineRuns.leaseOwner, leasedUntil: pipelineRuns.leasedUntil })
    .from(pipelineRuns)
    .where(and(eq(pipelineRuns.status, "running"), lt(pipelineRuns.leasedUntil, sql`now()`)));
}

/** Runs this process is executing now (a takeover job must not start a second one here). */
const executing = new Set<string>();

export function isExecutingHere(runId: string): boolean {
  return executing.has(runId);
}

/**
 * Claims the run and executes `work` under its lease; null (nothing done) when this process or
 * another worker is executing it already.
 */
export async function executeLeased<T>(db: Db, runId: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
  if (executing.has(runId)) return null;
  executing.add(runId);
  try {
    if (!(await claimRun(db, runId))) return null;
    return await withLease(db, runId, signal, work);
  } finally {
    executing.delete(runId);
  }
}

/**
 * Holds the lease while `work` runs: renews it on a timer; if it turns out to be someone
 * else's (this process stalled past its lease and the run was taken over), aborts the signal
 * handed to `work`. A renewal that fails (the database restarting) is tried again next tick.
 */
async function withLease<T>(db: Db, runId: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const lost = new AbortController();
  const every = Math.max(250, Math.floor(env.RUN_LEASE_MS / 4));
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    renewLease(db, runId)
      .then((ours) => {
        if (!ours && !lost.signal.aborted) {
          console.error(`[pipeline] run ${runId}: another worker took over its lease; stopping here`);
          lost.abort(new LeaseLostError(runId));
        }
      })
      .catch(() => {})
      .finally(() => (renewing = false));
  }, every);
  timer.unref();
  try {
    return await work(AbortSignal.any([signal, lost.signal]));
  } finally {
    clearInterval(timer);
    await releaseLease(db, runId).catch(() => {});
  }
}

export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`run ${runId} was taken over by another worker`);
    this.name = "LeaseLostError";
  }
}
