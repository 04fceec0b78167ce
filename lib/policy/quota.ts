import { and, eq, ne, notInArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { lockForTransaction } from "../db/locks";
import { flavors, groups, images, memberships, orders, quotas, users, type OrderStatus } from "../db/schema";
import { UserError } from "../errors";

/**
 * Quotas per group and per user: environments, vCPUs, memory, disk and licensed cores.
 *
 * What counts: every order that holds or may soon hold an environment, i.e. every status
 * except rejected, cancelled and retired. That includes orders pending approval (so an
 * approver never approves past a quota), queued, provisioning, ready, retiring (resources
 * are held until the teardown finishes) and failed (a failed order keeps what it built and
 * a retry builds it without asking again; cancelling it releases the quota).
 *
 * Licensed cores: for images marked licensed (per-CPU licences, e.g. a database in a capped
 * zone), the CPUs the licence is paid for: the flavor's CPU cap rounded up, else its vCPUs.
 */
export const releasedStatuses: OrderStatus[] = ["rejected", "cancelled", "retired"];

export const quotaResources = ["environments", "vcpus", "memoryMb", "diskGb", "licensedCores"] as const;
export type QuotaResource = (typeof quotaResources)[number];
export type Amounts = Record<QuotaResource, number>;
export type Limits = Record<QuotaResource, number | null>;

export const noLimits: Limits = { environments: null, vcpus: null, memoryMb: null, diskGb: null, licensedCores: null };
export const zero: Amounts = { environments: 0, vcpus: 0, memoryMb: 0, diskGb: 0, licensedCores: 0 };

export function licensedCoresOf(image: { licensed: boolean }, flavor: { vcpus: number; cpuCap: number | null }): number {
  if (!image.licensed) return 0;
  return Math.ceil(flavor.cpuCap ?? flavor.vcpus);
}

/** What one order of `flavor` from `image` uses. */
export function orderNeed(image: { licensed: boolean }, flavor: { vcpus: number; memoryMb: number; diskGb: number; cpuCap: number | null }): Amounts {
  return { environments: 1, vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb, licensedCores: licensedCoresOf(image, flavor) };
}

export type QuotaLine = { resource: QuotaResource; limit: number | null; used: number; left: number | null; need: number; exceeded: boolean };

/** Used, limit, left and this order's need per resource; `exceeded` when the need does not fit. */
export function quotaLines(limits: Limits, used: Amounts, need: Amounts = zero): QuotaLine[] {
  return quotaResources.map((resource) => {
    const limit = limits[resource];
    const left = limit === null ? null : Math.max(0, limit - used[resource]);
    return { resource, limit, used: used[resource], left, need: need[resource], exceeded: left !== null && need[resource] > left };
  });
}

/** "4 licensed cores", "8 GiB memory": a resource amount in words. */
export function amount(resource: QuotaResource, n: number): string {
  switch (resource) {
    case "environments":
      return `${n} environment${n === 1 ? "" : "s"}`;
    case "vcpus":
      return `${n} vCPU${n === 1 ? "" : "s"}`;
    case "memoryMb":
      return `${formatGb(n)} GiB memory`;
    case "diskGb":
      return `${n} GB disk`;
    case "licensedCores":
      return `${n} licensed core${n === 1 ? "" : "s"}`;
  }
}

const formatGb = (mb: number) => String(Math.round((mb / 1024) * 100) / 100);
const bare = (resource: QuotaResource, n: number) => (resource === "memoryMb" ? formatGb(n) : String(n));

/** "needs 4 licensed cores, 2 of 8 left in group Physics", one per exceeded resource. */
export function refusals(lines: QuotaLine[], where: string): string[] {
  return lines
    .filter((l) => l.exceeded)
    .map((l) => `needs ${amount(l.resource, l.need)}, ${bare(l.resource, l.left ?? 0)} of ${bare(l.resource, l.limit ?? 0)} left ${where}`);
}

export type QuotaOwner = { groupId: string } | { userId: string };

/** What the counted orders of a group or a user use (without `excludeOrderId`). */
export async function usageOf(db: Db, owner: QuotaOwner, excludeOrderId?: string): Promise<Amounts> {
  const conditions: SQL[] = [notInArray(orders.status, releasedStatuses)];
  conditions.push("groupId" in owner ? eq(orders.groupId, owner.groupId) : eq(orders.userId, owner.userId));
  if (excludeOrderId) conditions.push(ne(orders.id, excludeOrderId));
  const [row] = await db
    .select({
      environments: sql<number>`count(*)::int`,
      vcpus: sql<number>`coalesce(sum(${flavors.vcpus}), 0)::int`,
      memoryMb: sql<number>`coalesce(sum(${flavors.memoryMb}), 0)::int`,
      diskGb: sql<number>`coalesce(sum(${flavors.diskGb}), 0)::int`,
      licensedCores: sql<number>`coalesce(sum(case when ${images.licensed} then ceil(coalesce(${flavors.cpuCap}, ${flavors.vcpus})) else 0 end), 0)::int`,
    })
    .from(orders)
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(images, eq(images.id, orders.imageId))
    .where(and(...conditions));
  return row;
}

export async function limitsOf(db: Db, owner: QuotaOwner): Promise<Limits> {
  const [row] = await db
    .select()
    .from(quotas)
    .where("groupId" in owner ? eq(quotas.groupId, owner.groupId) : eq(quotas.userId, owner.userId));
  if (!row) return noLimits;
  return { environments: row.environments, vcpus: row.vcpus, memoryMb: row.memoryMb, diskGb: row.diskGb, licensedCores: row.licensedCores };
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
