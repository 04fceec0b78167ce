import { and, asc, desc, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, flavors, snapshots, type EnvironmentActionStatus } from "../db/schema";

/** What the API and the order page show of a snapshot. */
export type SnapshotView = {
  id: string;
  name: string;
  status: (typeof snapshots.$inferSelect)["status"];
  withMemory: boolean;
  sizeBytes: number | null;
  createdAt: string;
};

export function snapshotView(s: typeof snapshots.$inferSelect): SnapshotView {
  return { id: s.id, name: s.name, status: s.status, withMemory: s.withMemory, sizeBytes: s.sizeBytes, createdAt: s.createdAt.toISOString() };
}

/** The environment's snapshots that exist or are being made, oldest first; none once it is destroyed (they went with its disk). */
export async function snapshotsOf(db: Db, environmentId: string): Promise<SnapshotView[]> {
  const rows = await db
    .select({ snapshot: snapshots })
    .from(snapshots)
    .innerJoin(environments, eq(environments.id, snapshots.environmentId))
    .where(and(eq(snapshots.environmentId, environmentId), ne(snapshots.status, "deleted"), ne(environments.state, "deleted")))
    .orderBy(asc(snapshots.createdAt));
  return rows.map((r) => snapshotView(r.snapshot));
}

const day2Kinds = ["snapshot", "revert", "delete_snapshot", "resize"] as const;

/** One snapshot, revert, snapshot deletion or resize, as the order page follows it. */
export type Day2ActionView = {
  id: string;
  action: (typeof day2Kinds)[number];
  status: EnvironmentActionStatus;
  note: string | null;
  error: string | null;
  /** The snapshot's name (snapshot, revert, delete) or the new size's name (resize). */
  snapshot: string | null;
  flavor: string | null;
  createdAt: string;
  finishedAt: string | null;
};

/** The environment's latest snapshot actions and resizes, newest first. */
export async function day2ActionsOf(db: Db, environmentId: string, limit = 3): Promise<Day2ActionView[]> {
  const rows = await db
    .select({ a: environmentActions, snapshot: snapshots.name, flavor: flavors.name })
    .from(environmentActions)
    .leftJoin(snapshots, eq(snapshots.id, environmentActions.snapshotId))
    .leftJoin(flavors, eq(flavors.id, environmentActions.flavorId))
    .where(and(eq(environmentActions.environmentId, environmentId), inArray(environmentActions.action, [...day2Kinds])))
    .orderBy(desc(environmentActions.createdAt))
    .limit(limit);
  return rows.map(({ a, snapshot, flavor }) => ({
    id: a.id,
    action: a.action as Day2ActionView["action"],
    status: a.status,
    note: a.note,
    error: a.error,
    snapshot,
    flavor,
    createdAt: a.createdAt.toISOString(),
    finishedAt: a.finishedAt?.toISOString() ?? null,
  }));
}
