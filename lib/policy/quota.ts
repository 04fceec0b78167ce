import { and, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { lockForTransaction } from "../db/locks";
import { flavors, groups, images, memberships, orders, quotas, users, type OrderStatus } from "../db/schema";
import { UserError } from "../errors";
import { noLimits, quotaLines, refusals, zero, type Amounts, type Limits, type QuotaLine } from "./quota-math";

export * from "./quota-math";

/**
 * Quotas per group and per user: environments, vCPUs, memory, disk and licensed cores.
 *
 * What counts: every order that holds or may soon hold an environment, i.e. every status
 * except rejected, cancelled and retired. That includes orders pending approval (so an
 * approver never approves past a quota), queued, provisioning, ready, retiring (resources
 * are held until the teardown finishes) and failed (a failed order keeps what it built and
 * a retry builds it without asking again; cancelling it releases the quota).
 * Licensed cores: see quota-math.ts.
 */
export const releasedStatuses: OrderStatus[] = ["rejected", "cancelled", "retired"];

export type QuotaOwner = { groupId: string } | { userId: string };

/**
 * Orders that count, written out as constants so the planner matches the partial indexes
 * on live orders (orders_group_live_idx).
 */
const countedOrders = sql`${orders.status} not in ('rejected', 'cancelled', 'retired')`;

/** The amounts an order set uses, summed over its orders' flavors and images. */
const amountColumns = {
  environments: sql<number>`count(*)::int`,
  vcpus: sql<number>`coalesce(sum(${flavors.vcpus}), 0)::int`,
  memoryMb: sql<number>`coalesce(sum(${flavors.memoryMb}), 0)::int`,
  diskGb: sql<number>`coalesce(sum(${flavors.diskGb}), 0)::int`,
  licensedCores: sql<number>`coalesce(sum(case when ${images.licensed} then ceil(coalesce(${flavors.cpuCap}, ${flavors.vcpus})) else 0 end), 0)::int`,
};

/** What the counted orders of a group or a user use (without `excludeOrderId`). */
export async function usageOf(db: Db, owner: QuotaOwner, excludeOrderId?: string): Promise<Amounts> {
  const conditions: SQL[] = [countedOrders];
  conditions.push("groupId" in owner ? eq(orders.groupId, owner.groupId) : eq(orders.userId, owner.userId));
  if (excludeOrderId) conditions.push(ne(orders.id, excludeOrderId));
  const [row] = await db
    .select(amountColumns)
    .from(orders)
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(images, eq(images.id, orders.imageId))
    .where(and(...conditions));
  return row;
}

/** usageOf for many groups or many users at once: one statement, owners without orders left out. */
export async function usageByOwner(db: Db, kind: "group" | "user", ids: string[]): Promise<Map<string, Amounts>> {
  if (ids.length === 0) return new Map();
  const owner = kind === "group" ? orders.groupId : orders.userId;
  const rows = await db
    .select({ owner, ...amountColumns })
    .from(orders)
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(images, eq(images.id, orders.imageId))
    .where(and(countedOrders, inArray(owner, ids)))
    .groupBy(owner);
  return new Map(rows.map(({ owner: id, ...amounts }) => [id, amounts]));
}

export async function limitsOf(db: Db, owner: QuotaOwner): Promise<Limits> {
  const [row] = await db
    .select()
    .from(quotas)
    .where("groupId" in owner ? eq(quotas.groupId, owner.groupId) : eq(quotas.userId, owner.userId));
  return limitsOfRow(row);
}

/** The limits a quotas row sets (none without a row). */
export function limitsOfRow(row: Limits | undefined): Limits {
  return row ? { environments: row.environments, vcpus: row.vcpus, memoryMb: row.memoryMb, diskGb: row.diskGb, licensedCores: row.licensedCores } : noLimits;
}

export type QuotaReport = { group: { id: string; name: string; lines: QuotaLine[] }; user: { id: string; email: string; lines: QuotaLine[] } };

/** Used, limit and left for the group and the user, and what `need` would use of each. */
export async function quotaReport(
  db: Db,
  who: { group: { id: string; name: string }; user: { id: string; email: string } },
  need: Amounts = zero,
  excludeOrderId?: string,
): Promise<QuotaReport> {
  // One after the other: inside a transaction there is one connection.
  const gl = await limitsOf(db, { groupId: who.group.id });
  const gu = await usageOf(db, { groupId: who.group.id }, excludeOrderId);
  const ul = await limitsOf(db, { userId: who.user.id });
  const uu = await usageOf(db, { userId: who.user.id }, excludeOrderId);
  return {
    group: { ...who.group, lines: quotaLines(gl, gu, need) },
    user: { ...who.user, lines: quotaLines(ul, uu, need) },
  };
}

/** Every reason `report` refuses its need, in words. */
export function reportRefusals(report: QuotaReport): string[] {
  return [...refusals(report.group.lines, `in group ${report.group.name}`), ...refusals(report.user.lines, `for ${report.user.email}`)];
}

/**
 * Checks that `need` fits the group's and the user's quotas and refuses with the numbers
 * otherwise (409). Call it inside the transaction that inserts the order: it takes the
 * group's, then the user's quota lock (always in that order) and holds them to commit, so
 * concurrent orders against one quota are counted one after the other. Exported for every
 * route that creates orders (course orders too).
 */
export async function enforceQuota(
  tx: Db,
  who: { group: { id: string; name: string }; user: { id: string; email: string } },
  need: Amounts,
): Promise<QuotaReport> {
  await lockForTransaction(tx, "quotaGroup", who.group.id);
  await lockForTransaction(tx, "quotaUser", who.user.id);
  const report = await quotaReport(tx, who, need);
  const why = reportRefusals(report);
  if (why.length) throw new UserError(`Over quota: ${why.join("; ")}`, 409, { quota: why });
  return report;
}

/** The caller's quotas: per group they belong to, and their own; used, limit and left. */
export async function myQuotas(db: Db, userId: string) {
  const [user] = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, userId));
  const mine = await db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, kind: groups.kind, role: memberships.role })
    .from(memberships)
    .innerJoin(groups, eq(groups.id, memberships.groupId))
    .where(eq(memberships.userId, userId))
    .orderBy(groups.name);
  const [ul, uu] = await Promise.all([limitsOf(db, { userId }), usageOf(db, { userId })]);
  const groupLines = await Promise.all(
    mine.map(async (g) => ({ ...g, lines: quotaLines(await limitsOf(db, { groupId: g.id }), await usageOf(db, { groupId: g.id })) })),
  );
  return { user: { id: user.id, email: user.email, lines: quotaLines(ul, uu) }, groups: groupLines };
}

/** Sets a group's or a user's limits (null = no limit). */
export async function setLimits(db: Db, owner: QuotaOwner, limits: Limits) {
  const values = { ...limits, updatedAt: new Date() };
  const target = "groupId" in owner ? quotas.groupId : quotas.userId;
  const [row] = await db
    .insert(quotas)
    .values({ ...values, ...("groupId" in owner ? { groupId: owner.groupId } : { userId: owner.userId }) })
    .onConflictDoUpdate({ target, set: values })
    .returning();
  return row;
}
