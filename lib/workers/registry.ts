import { hostname } from "node:os";
import { and, asc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts, workers } from "../db/schema";
import { env, workerId } from "../env";

/**
 * The workers' register in PostgreSQL: each worker process beats every few seconds under its
 * WORKER_ID; web processes and other workers read who is live from here. Times are the
 * database's clock, shared by all machines.
 */

export type WorkerCounts = { concurrency: number; jobsRunning: number; jobsDone: number };

/** Records that this worker is alive, with its counts (insert on first beat). */
export async function heartbeat(db: Db, counts: WorkerCounts, id = workerId): Promise<void> {
  const process_ = `${hostname()}:${process.pid}`;
  await db
    .insert(workers)
    .values({ id, process: process_, ...counts })
    .onConflictDoUpdate({
      target: workers.id,
      set: {
        ...counts,
        process: process_,
        heartbeatAt: sql`now()`,
        // A new process under the same id (a restart) starts its counts and uptime anew.
        startedAt: sql`case when ${workers.process} = ${process_} then ${workers.startedAt} else now() end`,
      },
    });
}

const liveSql = (offlineAfterMs: number) => sql<boolean>`${workers.heartbeatAt} >= now() - make_interval(secs => ${offlineAfterMs / 1000})`;

export type WorkerView = {
  id: string;
  process: string;
  live: boolean;
  concurrency: number;
  jobsRunning: number;
  jobsDone: number;
  startedAt: Date;
  heartbeatAt: Date;
  hostsOwned: { id: string; name: string }[];
};

/**
 * Workers that beat within `offlineAfterMs`, and owners of hosts that are offline (with their
 * last heartbeat, or none if they never beat): what /admin/hosts and GET /api/v1/workers show.
 */
export async function listWorkers(db: Db, offlineAfterMs = env.WORKER_OFFLINE_MS): Promise<WorkerView[]> {
  const rows = await db
    .select({
      id: workers.id,
      process: workers.process,
      live: liveSql(offlineAfterMs),
      concurrency: workers.concurrency,
      jobsRunning: workers.jobsRunning,
      jobsDone: workers.jobsDone,
      startedAt: workers.startedAt,
      heartbeatAt: workers.heartbeatAt,
    })
    .from(workers)
    .orderBy(asc(workers.id));
  const owned = await db
    .select({ id: hosts.id, name: hosts.name, owner: hosts.ownerWorker })
    .from(hosts)
    .where(and(isNull(hosts.removedAt), isNotNull(hosts.ownerWorker)))
    .orderBy(asc(hosts.name));
  return rows
    .filter((w) => w.live || owned.some((h) => h.owner === w.id))
    .map((w) => ({ ...w, hostsOwned: owned.filter((h) => h.owner === w.id).map(({ id, name }) => ({ id, name })) }));
}

export type OwnerState = { owner: string; live: boolean; lastSeen: Date | null };

/** Whether worker `owner` is live, and when it last beat (null: never). */
export async function ownerState(db: Db, owner: string, offlineAfterMs = env.WORKER_OFFLINE_MS): Promise<OwnerState> {
  const [row] = await db.select({ live: liveSql(offlineAfterMs), heartbeatAt: workers.heartbeatAt }).from(workers).where(eq(workers.id, owner));
  return { owner, live: row?.live ?? false, lastSeen: row?.heartbeatAt ?? null };
}

/** Live state of each owner of the hosts `ownerIds` (for the hosts page's "owner offline"). */
export async function ownerStates(db: Db, ownerIds: string[], offlineAfterMs = env.WORKER_OFFLINE_MS): Promise<Map<string, OwnerState>> {
  const states = new Map<string, OwnerState>();
  for (const owner of new Set(ownerIds)) states.set(owner, await ownerState(db, owner, offlineAfterMs));
  return states;
}

/** "waiting for worker qemu-box (offline since 2026-12-06 11:59 UTC)": why owned work waits. */
export function waitingSentence(state: OwnerState): string {
  const since = state.lastSeen ? `offline since ${state.lastSeen.toISOString().slice(0, 16).replace("T", " ")} UTC` : "not seen yet";
  return `waiting for worker ${state.owner} (${since})`;
}

/**
 * Local hosts nobody owns yet become this worker's: a local host's guests run on the machine
 * of the worker that first serves it. `takeOver` (the worker inside `npm start`, the only one
 * of a one-machine portal) takes every local host, so a changed host name loses nothing.
 * Returns the names of the hosts claimed.
 */
export async function claimLocalHosts(db: Db, opts: { takeOver?: boolean } = {}, id = workerId): Promise<string[]> {
  const claimed = await db
    .update(hosts)
    .set({ ownerWorker: id })
    .where(
      and(
        eq(hosts.address, "local"),
        isNull(hosts.removedAt),
        opts.takeOver ? sql`${hosts.ownerWorker} is distinct from ${id}` : isNull(hosts.ownerWorker),
      ),
    )
    .returning({ name: hosts.name });
  return claimed.map((h) => h.name);
}
