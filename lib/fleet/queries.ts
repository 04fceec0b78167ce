import { and, asc, desc, eq } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import { environmentActions, environments, evacuationMoves, evacuations, hosts, users, type EvacuationMoveResult, type HostKind } from "../db/schema";
import { notFound } from "../errors";

const fromHost = alias(hosts, "from_host");
const toHost = alias(hosts, "to_host");

/** One environment of a batch as the host page and the API show it. */
export type EvacuationMoveView = {
  id: string;
  position: number;
  environment: { id: string; hostname: string; orderId: string; memoryMb: number; vcpus: number; state: string };
  from: { id: string; name: string };
  to: { id: string; name: string } | null;
  mode: "live" | "cold" | null;
  status: "pending" | "moving" | "moved" | "failed";
  /** Why it did not move (failed), what it waits for (pending), or a note on a finished one. */
  reason: string | null;
  /** While moving: the migration's own progress (0..100) and what it is doing. */
  progress: number | null;
  note: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Request to switch-over, as the portal measured it. */
  durationMs: number | null;
  /** What the migration measured: its total time and how long the guest was paused (null where the kind does not say, or for a stopped guest). */
  totalMs: number | null;
  downtimeMs: number | null;
};

export type EvacuationView = {
  id: string;
  kind: "evacuate" | "rebalance";
  status: "running" | "completed" | "incomplete";
  host: { id: string; name: string; state: string } | null;
  hostKind: string;
  parallel: number;
  requestedBy: string | null;
  outcome: string | null;
  createdAt: string;
  finishedAt: string | null;
  counts: { total: number; pending: number; moving: number; moved: number; failed: number };
  moves: EvacuationMoveView[];
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A batch of moves with each move's state, live progress and measured downtime, or 404. */
export async function evacuationView(db: Db, evacuationId: string): Promise<EvacuationView> {
  const [row] = await db
    .select({ e: evacuations, hostName: hosts.name, hostState: hosts.state, by: users.email })
    .from(evacuations)
    .leftJoin(hosts, eq(hosts.id, evacuations.hostId))
    .leftJoin(users, eq(users.id, evacuations.requestedBy))
    .where(eq(evacuations.id, evacuationId));
  if (!row) throw notFound("Evacuation");
  const rows = await db
    .select({
      m: evacuationMoves,
      env: { id: environments.id, hostname: environments.hostname, orderId: environments.orderId, memoryMb: environments.memoryMb, vcpus: environments.vcpus, state: environments.state },
      fromName: fromHost.name,
      toName: toHost.name,
      action: { status: environmentActions.status, progress: environmentActions.progress, note: environmentActions.note },
    })
    .from(evacuationMoves)
    .innerJoin(environments, eq(environments.id, evacuationMoves.environmentId))
    .innerJoin(fromHost, eq(fromHost.id, evacuationMoves.fromHostId))
    .leftJoin(toHost, eq(toHost.id, evacuationMoves.targetHostId))
    .leftJoin(environmentActions, eq(environmentActions.id, evacuationMoves.actionId))
    .where(eq(evacuationMoves.evacuationId, evacuationId))
    .orderBy(asc(evacuationMoves.position));
  const moves: EvacuationMoveView[] = rows.map(({ m, env, fromName, toName, action }) => {
    const result = m.result as EvacuationMoveResult | null;
    const moving = m.status === "moving";
    return {
      id: m.id,
      position: m.position,
      environment: env,
      from: { id: m.fromHostId, name: fromName },
      to: m.targetHostId && toName ? { id: m.targetHostId, name: toName } : null,
      mode: m.mode,
      status: m.status,
      reason: m.reason,
      progress: moving ? (action?.progress ?? 0) : null,
      note: moving ? (action?.note ?? (action?.status === "queued" ? "waiting for a worker" : null)) : null,
      startedAt: iso(m.startedAt),
      finishedAt: iso(m.finishedAt),
      durationMs: m.startedAt && m.finishedAt && m.status === "moved" ? m.finishedAt.getTime() - m.startedAt.getTime() : null,
      totalMs: result?.totalMs ?? null,
      downtimeMs: result?.downtimeMs ?? null,
    };
  });
  const count = (s: EvacuationMoveView["status"]) => moves.filter((m) => m.status === s).length;
  const e = row.e;
  return {
    id: e.id,
    kind: e.kind,
    status: e.status,
    host: e.hostId && row.hostName && row.hostState ? { id: e.hostId, name: row.hostName, state: row.hostState } : null,
    hostKind: e.hostKind,
    parallel: e.parallel,
    requestedBy: row.by,
    outcome: e.outcome,
    createdAt: e.createdAt.toISOString(),
    finishedAt: iso(e.finishedAt),
    counts: { total: moves.length, pending: count("pending"), moving: count("moving"), moved: count("moved"), failed: count("failed") },
    moves,
  };
}

/** The newest evacuation of a host, or null when it was never evacuated. */
export async function latestEvacuationIdOf(db: Db, hostId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: evacuations.id })
    .from(evacuations)
    .where(and(eq(evacuations.hostId, hostId), eq(evacuations.kind, "evacuate")))
    .orderBy(desc(evacuations.createdAt))
    .limit(1);
  return row?.id ?? null;
}

/** The newest rebalance run, or null. */
export async function latestRebalanceId(db: Db): Promise<string | null> {
  const [row] = await db.select({ id: evacuations.id }).from(evacuations).where(eq(evacuations.kind, "rebalance")).orderBy(desc(evacuations.createdAt)).limit(1);
  return row?.id ?? null;
}

/** Batches still running (the reconciler makes sure each has its job). */
export async function runningEvacuationIds(db: Db): Promise<string[]> {
  return (await db.select({ id: evacuations.id }).from(evacuations).where(eq(evacuations.status, "running"))).map((r) => r.id);
}

/** The running rebalance of a host kind, if any. */
export async function runningRebalanceOf(db: Db, kind: HostKind): Promise<string | null> {
  const [row] = await db
    .select({ id: evacuations.id })
    .from(evacuations)
    .where(and(eq(evacuations.kind, "rebalance"), eq(evacuations.status, "running"), eq(evacuations.hostKind, kind)))
    .limit(1);
  return row?.id ?? null;
}
