import { and, eq, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { memberships, users } from "../db/schema";
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

/** Who may decide for `groupId` (its approvers and the admins), enabled accounts only: those told what waits for a decision. */
export async function approversOf(db: Db, groupId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: users.id })
    .from(users)
    .leftJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.groupId, groupId), eq(memberships.role, "approver")))
    .where(and(eq(users.disabled, false), or(eq(users.role, "admin"), eq(memberships.groupId, groupId))));
  return rows.map((r) => r.id);
}
