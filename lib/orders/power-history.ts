import { and, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, type EnvironmentActionStatus } from "../db/schema";

/** One start or stop of an environment, as the order page shows it. */
export type PowerActionView = {
  id: string;
  action: "start" | "stop";
  status: EnvironmentActionStatus;
  /** The latest line the action reported ("asking the guest to power off ..."). */
  note: string | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
};

/** The environment's latest starts and stops, newest first. */
export async function powerActionsOf(db: Db, environmentId: string, limit = 3): Promise<PowerActionView[]> {
  const rows = await db
    .select()
    .from(environmentActions)
    .where(and(eq(environmentActions.environmentId, environmentId), inArray(environmentActions.action, ["start", "stop"])))
    .orderBy(desc(environmentActions.createdAt))
    .limit(limit);
  return rows.map((a) => ({
    id: a.id,
    action: a.action as "start" | "stop",
    status: a.status,
    note: a.note,
    error: a.error,
    createdAt: a.createdAt.toISOString(),
    finishedAt: a.finishedAt?.toISOString() ?? null,
  }));
}
