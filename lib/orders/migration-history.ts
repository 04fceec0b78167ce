import { alias } from "drizzle-orm/pg-core";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, hosts, type EnvironmentActionStatus } from "../db/schema";

/** One move of an environment, as the order page and the API show it. */
export type MigrationView = {
  id: string;
  status: EnvironmentActionStatus;
  progress: number;
  note: string | null;
  error: string | null;
  from: string | null;
  to: string | null;
  /** What the move measured (mode, totalMs, downtimeMs, transferredBytes), once it succeeded. */
  result: { mode?: string; totalMs?: number; downtimeMs?: number | null; transferredBytes?: number | null } | null;
  createdAt: string;
  finishedAt: string | null;
};

/** The environment's moves (live migrations and cold moves), newest first. */
export async function migrationsOf(db: Db, environmentId: string, limit = 5): Promise<MigrationView[]> {
  const fromHost = alias(hosts, "from_host");
  const toHost = alias(hosts, "to_host");
  const rows = await db
    .select({ action: environmentActions, from: fromHost.name, to: toHost.name })
    .from(environmentActions)
    .leftJoin(fromHost, eq(fromHost.id, environmentActions.fromHostId))
    .leftJoin(toHost, eq(toHost.id, environmentActions.targetHostId))
    .where(and(eq(environmentActions.environmentId, environmentId), inArray(environmentActions.action, ["migrate", "move"])))
    .orderBy(desc(environmentActions.createdAt))
    .limit(limit);
  return rows.map(({ action: a, from, to }) => ({
    id: a.id,
    status: a.status,
    progress: a.progress,
    note: a.note,
    error: a.error,
    from,
    to,
    result: (a.result as MigrationView["result"]) ?? null,
    createdAt: a.createdAt.toISOString(),
    finishedAt: a.finishedAt?.toISOString() ?? null,
  }));
}
