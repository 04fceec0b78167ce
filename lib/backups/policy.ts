import { and, desc, eq, inArray, isNotNull, isNull, notInArray } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { backupPolicies, backups, environments, groupBackupRules, orders, users } from "../db/schema";
import { UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { backupSchedulerId, getQueue, removeBackupScheduler, upsertBackupScheduler } from "../jobs/queues";
import { environmentForOwner } from "../lifecycle/actions";
import { requestBackup } from "./backups";
import type { BackupPolicyInput } from "./input";
import { removeBackupFile } from "./store";

/** What "daily" and "weekly" mean: 03:00 UTC, every day or on Mondays. */
const named: Record<string, string> = { daily: "0 3 * * *", weekly: "0 3 * * 1" };

export type BackupPolicyView = { schedule: string; pattern: string; keepLast: number; nextRunAt: Date | null };

async function nextRunOf(environmentId: string): Promise<Date | null> {
  const next = (await getQueue("maintenance").getJobScheduler(backupSchedulerId(environmentId)))?.next;
  return next ? new Date(next) : null;
}

/**
 * Sets the environment's backup policy (owner or admin): a job scheduler fires a backup on the
 * schedule, and each backup prunes those beyond keepLast. A pattern the scheduler cannot read
 * is refused with 422 and changes nothing. Audited.
 */
export async function setBackupPolicy(db: Db, actor: Actor, environmentId: string, input: BackupPolicyInput): Promise<BackupPolicyView> {
  const env = await environmentForOwner(db, actor, environmentId);
  return applyPolicy(db, environmentId, env.orderId, input, { setBy: actor.id, auditActor: actor.id });
}

async function applyPolicy(db: Db, environmentId: string, orderId: string, input: BackupPolicyInput, by: { setBy: string; auditActor: string | null }): Promise<BackupPolicyView> {
  const pattern = named[input.schedule] ?? input.schedule;
  const [before] = await db.select().from(backupPolicies).where(eq(backupPolicies.environmentId, environmentId));
  let nextRunAt: Date | null;
  try {
    nextRunAt = await upsertBackupScheduler(environmentId, pattern);
  } catch (err) {
    if (before) await upsertBackupScheduler(environmentId, named[before.schedule] ?? before.schedule).catch(() => {});
    else await removeBackupScheduler(environmentId).catch(() => {});
    const why = `schedule "${input.schedule}" is not a cron pattern the scheduler can read (${(err as Error).message.slice(0, 120)})`;
    throw new UserError(why, 422, { schedule: [why] });
  }
  const values = { schedule: input.schedule, keepLast: input.keepLast, setBy: by.setBy, updatedAt: new Date() };
  await db.insert(backupPolicies).values({ environmentId, ...values }).onConflictDoUpdate({ target: backupPolicies.environmentId, set: values });
  // A lower keepLast frees room at once (and in the group's backup quota).
  await pruneBackups(db, environmentId);
  await writeAudit(db, {
    actorId: by.auditActor, action: "backup.policy", targetType: "environment", targetId: environmentId,
    data: { order: orderId, ...(by.auditActor ? {} : { requiredByGroup: true }) },
    before: before ? { schedule: before.schedule, keepLast: before.keepLast } : null, after: { schedule: input.schedule, keepLast: input.keepLast },
  });
  return { schedule: input.schedule, pattern, keepLast: input.keepLast, nextRunAt };
}

/**
 * Gives every delivered environment of a group that requires a backup policy, and has none,
 * the group's policy (set in its owner's name, audited as required by the group). Run by the
 * reconcile sweep; returns how many it set.
 */
export async function applyRequiredPolicies(db: Db): Promise<number> {
  const missing = await db
    .select({ env: environments.id, orderId: orders.id, owner: orders.userId, schedule: groupBackupRules.requiredSchedule, keepLast: groupBackupRules.requiredKeepLast })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .innerJoin(groupBackupRules, eq(groupBackupRules.groupId, orders.groupId))
    .leftJoin(backupPolicies, eq(backupPolicies.environmentId, environments.id))
    .where(and(eq(orders.status, "ready"), inArray(environments.state, ["running", "stopped"]), isNotNull(groupBackupRules.requiredSchedule), isNull(backupPolicies.environmentId)));
  let set = 0;
  for (const m of missing) {
    if (!m.schedule || !m.keepLast) continue;
    try {
      await applyPolicy(db, m.env, m.orderId, { schedule: m.schedule, keepLast: m.keepLast }, { setBy: m.owner, auditActor: null });
      set++;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      console.warn(`[backups] the required backup policy of environment ${m.env} could not be set: ${err.message}`);
    }
  }
  return set;
}

/**
 * The database holds the policies, Redis only their job schedulers: after Redis lost its data
 * (FLUSHALL, a failover to an empty replica) every policy of an environment that is not gone
 * gets its scheduler again, on its own pattern, so it fires at the same next time as before
 * (a cron pattern's next time depends on the clock only). One whose pattern differs from the
 * policy's is set again too; one that is there and agrees is left alone, so running this often
 * changes nothing. Policies that groups require are rows like any other once applied
 * (applyRequiredPolicies), and come back the same way. Returns the environments re-scheduled.
 */
export async function restoreBackupSchedulers(db: Db): Promise<string[]> {
  const policies = await db
    .select({ env: backupPolicies.environmentId, schedule: backupPolicies.schedule })
    .from(backupPolicies)
    .innerJoin(environments, eq(environments.id, backupPolicies.environmentId))
    .where(notInArray(environments.state, ["deleting", "deleted"]));
  if (!policies.length) return [];
  const present = new Map((await getQueue("maintenance").getJobSchedulers(0, -1)).map((s) => [s.key, s.pattern]));
  const restored: string[] = [];
  for (const p of policies) {
    const pattern = named[p.schedule] ?? p.schedule;
    if (present.get(backupSchedulerId(p.env)) === pattern) continue;
    try {
      await upsertBackupScheduler(p.env, pattern);
      restored.push(p.env);
    } catch (err) {
      console.error(`[backups] the backup schedule of environment ${p.env} could not be restored: ${(err as Error).message}`);
    }
  }
  if (restored.length) console.log(`[backups] re-created ${restored.length} backup schedule(s) missing from Redis`);
  return restored;
}

/** The environment's backup policy, or null (owner or admin). */
export async function getBackupPolicy(db: Db, actor: Actor, environmentId: string): Promise<BackupPolicyView | null> {
  await environmentForOwner(db, actor, environmentId);
  const [p] = await db.select().from(backupPolicies).where(eq(backupPolicies.environmentId, environmentId));
  if (!p) return null;
  return { schedule: p.schedule, pattern: named[p.schedule] ?? p.schedule, keepLast: p.keepLast, nextRunAt: await nextRunOf(environmentId) };
}

/**
 * A policy's scheduler fired: the backup is requested in the name of who set the policy. An
 * environment that is gone loses its scheduler; one that is busy (another action) skips this
 * turn and says why in the worker's log.
 */
export async function runScheduledBackup(db: Db, environmentId: string): Promise<{ backup?: string; skipped?: string }> {
  const [row] = await db
    .select({ policy: backupPolicies, user: users, state: environments.state })
    .from(backupPolicies)
    .innerJoin(users, eq(users.id, backupPolicies.setBy))
    .innerJoin(environments, eq(environments.id, backupPolicies.environmentId))
    .where(eq(backupPolicies.environmentId, environmentId));
  if (!row || row.state === "deleted" || row.state === "deleting") {
    await removeBackupScheduler(environmentId);
    return { skipped: "the environment has no backup policy or is gone; its schedule is removed" };
  }
  try {
    const b = await requestBackup(db, { id: row.user.id, role: row.user.role, email: row.user.email }, environmentId);
    return { backup: b.id };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    console.warn(`[backups] scheduled backup of environment ${environmentId} skipped: ${err.message}`);
    return { skipped: err.message };
  }
}

/**
 * Retention after a backup: of the environment's backups, the newest `keepLast` complete ones
 * stay; older ones (and failed or damaged ones older than those) are pruned: file removed,
 * row kept as "pruned" for the record, audited. Without a policy nothing is pruned.
 */
export async function pruneBackups(db: Db, environmentId: string): Promise<string[]> {
  const [policy] = await db.select().from(backupPolicies).where(eq(backupPolicies.environmentId, environmentId));
  if (!policy) return [];
  const finished = await db
    .select()
    .from(backups)
    .where(and(eq(backups.environmentId, environmentId), inArray(backups.status, ["succeeded", "failed", "damaged"])))
    .orderBy(desc(backups.createdAt));
  const kept = finished.filter((b) => b.status === "succeeded").slice(0, policy.keepLast);
  if (kept.length < policy.keepLast) return [];
  const oldestKept = kept[kept.length - 1].createdAt;
  const pruned = finished.filter((b) => b.createdAt < oldestKept);
  for (const b of pruned) {
    if (b.file) await removeBackupFile(b.file);
    await db.update(backups).set({ status: "pruned" }).where(eq(backups.id, b.id));
    await writeAudit(db, { actorId: null, action: "backup.pruned", targetType: "backup", targetId: b.id, data: { environment: environmentId, keepLast: policy.keepLast } });
  }
  return pruned.map((b) => b.id);
}
