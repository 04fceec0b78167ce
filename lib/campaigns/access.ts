import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { campaigns, memberships } from "../db/schema";
import type { Actor } from "../auth/actor";
import { forbidden, notFound } from "../errors";
import { isUuid } from "../validation/ids";

export type Campaign = typeof campaigns.$inferSelect;

/** Groups in which the actor approves (and so may run campaigns). */
export async function approvedGroupIds(db: Db, actor: Actor): Promise<string[]> {
  const rows = await db
    .select({ groupId: memberships.groupId })
    .from(memberships)
    .where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver")));
  return rows.map((r) => r.groupId);
}

/** Who may run campaigns at all: admins, and approvers of at least one group (403 for everyone else). */
export async function requireCampaignManager(db: Db, actor: Actor): Promise<string[] | "all"> {
  if (actor.role === "admin") return "all";
  const mine = actor.role === "student" ? [] : await approvedGroupIds(db, actor);
  if (mine.length === 0) throw forbidden("Only admins and the approvers of a group manage patch campaigns");
  return mine;
}

/**
 * The campaign for someone who may manage it: admins any, an approver those of the groups they
 * approve for (404 for another group's); 403 for who manages no campaign at all.
 */
export async function campaignForManager(db: Db, actor: Actor, campaignId: string): Promise<Campaign> {
  const scope = await requireCampaignManager(db, actor);
  if (!isUuid(campaignId)) throw notFound("Campaign");
  const [c] = await db.select().from(campaigns).where(eq(campaigns.id, campaignId));
  if (!c) throw notFound("Campaign");
  if (scope === "all" || (c.groupId && scope.includes(c.groupId))) return c;
  throw notFound("Campaign");
}

/** Filter for the campaigns the actor manages (undefined: all, for admins); 403 for who manages none. */
export async function managedCampaigns(db: Db, actor: Actor) {
  const scope = await requireCampaignManager(db, actor);
  return scope === "all" ? undefined : inArray(campaigns.groupId, scope);
}
