import { and, count, eq, inArray, sum } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { backups, groupBackupRules, groups, orders } from "../db/schema";
import { conflict, forbidden, notFound } from "../errors";
import { writeAudit } from "../audit/write";
import { isUuid } from "../validation/ids";
import type { GroupBackupRulesInput } from "./input";

/** Backups that count against a group's quota: those kept or being written (not failed or pruned). */
const kept = ["queued", "running", "succeeded", "damaged"] as const;

export type GroupBackupUse = {
  maxBackups: number | null;
  maxGb: number | null;
  requirePolicy: { schedule: string; keepLast: number } | null;
  backups: number;
  bytes: number;
};

/** The group's rules and what its environments' backups use now. */
export async function groupBackupUse(db: Db, groupId: string): Promise<GroupBackupUse> {
  const [rules] = await db.select().from(groupBackupRules).where(eq(groupBackupRules.groupId, groupId));
  const [use] = await db
    .select({ n: count(), bytes: sum(backups.sizeBytes) })
    .from(backups)
    .innerJoin(orders, eq(orders.id, backups.orderId))
    .where(and(eq(orders.groupId, groupId), inArray(backups.status, kept)));
  const requirePolicy = rules?.requiredSchedule && rules.requiredKeepLast ? { schedule: rules.requiredSchedule, keepLast: rules.requiredKeepLast } : null;
  return { maxBackups: rules?.maxBackups ?? null, maxGb: rules?.maxGb ?? null, requirePolicy, backups: Number(use?.n ?? 0), bytes: Number(use?.bytes ?? 0) };
}

/** 409 when one more backup would pass the quota of the order's group, saying which and how to free room. */
export async function checkBackupQuota(db: Db, orderId: string): Promise<void> {
  const [o] = await db.select({ groupId: orders.groupId, group: groups.name }).from(orders).innerJoin(groups, eq(groups.id, orders.groupId)).where(eq(orders.id, orderId));
  const use = await groupBackupUse(db, o.groupId);
  const free = "; a backup policy with a lower keepLast prunes older ones";
  if (use.maxBackups !== null && use.backups >= use.maxBackups) throw conflict(`Backup quota of group ${o.group}: ${use.backups} of ${use.maxBackups} backups kept${free}`);
  if (use.maxGb !== null && use.bytes >= use.maxGb * 1024 ** 3) {
    throw conflict(`Backup quota of group ${o.group}: ${(use.bytes / 1024 ** 3).toFixed(1)} of ${use.maxGb} GB of backups kept${free}`);
  }
}

/** Sets a group's backup quota (admins), audited. */
export async function setGroupBackupRules(db: Db, actor: Actor, groupId: string, input: GroupBackupRulesInput): Promise<GroupBackupUse> {
  if (actor.role !== "admin") throw forbidden("Only an admin can set a group's backup quota");
  if (!isUuid(groupId)) throw notFound("Group");
  const [g] = await db.select({ id: groups.id }).from(groups).where(eq(groups.id, groupId));
  if (!g) throw notFound("Group");
  const [before] = await db.select().from(groupBackupRules).where(eq(groupBackupRules.groupId, groupId));
  const values = {
    maxBackups: input.maxBackups,
    maxGb: input.maxGb,
    requiredSchedule: input.requirePolicy?.schedule ?? null,
    requiredKeepLast: input.requirePolicy?.keepLast ?? null,
    updatedAt: new Date(),
  };
  await db.insert(groupBackupRules).values({ groupId, ...values }).onConflictDoUpdate({ target: groupBackupRules.groupId, set: values });
  await writeAudit(db, {
    actorId: actor.id, action: "group.backup_rules", targetType: "group", targetId: groupId,
    before: before ? { maxBackups: before.maxBackups, maxGb: before.maxGb, requiredSchedule: before.requiredSchedule, requiredKeepLast: before.requiredKeepLast } : null,
    after: { maxBackups: values.maxBackups, maxGb: values.maxGb, requiredSchedule: values.requiredSchedule, requiredKeepLast: values.requiredKeepLast },
  });
  return groupBackupUse(db, groupId);
}
