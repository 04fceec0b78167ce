import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { memberships } from "../db/schema";
import type { Actor } from "../auth/actor";

/** Whether the actor may approve or reject orders of `groupId` (admins always may). */
export async function isApproverFor(db: Db, actor: Actor, groupId: string): Promise<boolean> {
  if (actor.role === "admin") return true;
  const [row] = await db
    .select({ groupId: memberships.groupId })
    .from(memberships)
    .where(and(eq(memberships.userId, actor.id), eq(memberships.groupId, groupId), eq(memberships.role, "approver")));
  return Boolean(row);
}
