import { and, desc, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { backupActionTargets, backups, environmentActions, environments } from "../db/schema";
import { conflict, notFound } from "../errors";
import { writeAudit } from "../audit/write";
import { environmentForOwner, requestAction } from "../lifecycle/actions";
import { isUuid } from "../validation/ids";
import { checksumOf } from "./store";
import { checkBackupQuota } from "./quota";
import { requestRestoreAsNew } from "./clone";
import type { RestoreInput } from "./input";

export type Backup = typeof backups.$inferSelect;

/** A backup as the list and the order page show it. */
export type BackupView = {
  id: string;
  status: Backup["status"];
  sizeBytes: number | null;
  sha256: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  verifiedAt: Date | null;
  verified: boolean;
  /** Why it failed, or why it is damaged or not verified; null when there is nothing to say. */
  note: string | null;
};

/**
 * Asks for a backup of the environment (owner or admin): a `backup` action (one action at a
 * time per environment: a running backup, restore or move answers 409 naming it) and its
 * backup row in the same commit, audited. The worker that owns the host writes the file.
 */
export async function requestBackup(db: Db, actor: Actor, environmentId: string, opts: { onBehalf?: boolean; auditData?: Record<string, unknown> } = {}) {
  let backupId = "";
  const action = await requestAction(db, actor, environmentId, "backup", {
    onBehalf: opts.onBehalf,
    auditData: opts.auditData,
    onCreate: async (tx, row) => {
      const [env] = await tx.select({ orderId: environments.orderId }).from(environments).where(eq(environments.id, environmentId));
      // Inside the environment's lock: two backups at once of one environment cannot both pass.
      await checkBackupQuota(tx, env.orderId);
      const [b] = await tx.insert(backups).values({ environmentId, orderId: env.orderId, actionId: row.id }).returning({ id: backups.id });
      backupId = b.id;
    },
  });
  return { id: backupId, actionId: action.id, status: action.status, environmentId };
}

/** The environment's backups, newest first (pruned ones left out); a backup whose action failed says why. */
export async function listBackups(db: Db, actor: Actor, environmentId: string): Promise<BackupView[]> {
  await environmentForOwner(db, actor, environmentId);
  const rows = await db
    .select({ backup: backups, action: { status: environmentActions.status, error: environmentActions.error } })
    .from(backups)
    .innerJoin(environmentActions, eq(environmentActions.id, backups.actionId))
    .where(and(eq(backups.environmentId, environmentId), ne(backups.status, "pruned")))
    .orderBy(desc(backups.createdAt));
  return rows.map(({ backup: b, action }) => {
    const lost = (b.status === "queued" || b.status === "running") && action.status === "failed";
    return {
      id: b.id,
      status: lost ? "failed" : b.status,
      sizeBytes: b.sizeBytes,
      sha256: b.sha256,
      createdAt: b.createdAt,
      finishedAt: b.finishedAt,
      verifiedAt: b.verifiedAt,
      verified: b.status === "succeeded" && b.verifiedAt !== null && b.verifyNote === null,
      note: lost ? action.error : (b.error ?? b.verifyNote),
    };
  });
}

/** The backup, restore or verification of the environment that is queued or running now, with its progress. */
export type BackupWork = { id: string; action: "backup" | "restore" | "verify"; status: "queued" | "running"; progress: number; note: string | null };

export async function backupWorkOf(db: Db, environmentId: string): Promise<BackupWork | null> {
  const [a] = await db
    .select()
    .from(environmentActions)
    .where(and(eq(environmentActions.environmentId, environmentId), inArray(environmentActions.action, ["backup", "restore", "verify"]), inArray(environmentActions.status, ["queued", "running"])))
    .orderBy(desc(environmentActions.createdAt))
    .limit(1);
  return a ? { id: a.id, action: a.action as BackupWork["action"], status: a.status as BackupWork["status"], progress: a.progress, note: a.note } : null;
}

/** One backup of the environment, or 404 (also for another environment's backup). */
export async function backupOf(db: Db, environmentId: string, backupId: string): Promise<Backup> {
  if (!isUuid(backupId)) throw notFound("Backup");
  const [b] = await db.select().from(backups).where(and(eq(backups.id, backupId), eq(backups.environmentId, environmentId)));
  if (!b) throw notFound("Backup");
  return b;
}

/**
 * Checks the backup's file against its checksum. A file that changed or vanished marks the
 * backup damaged (once, audited as found by `actorId`) and says so; a damaged backup is never
 * restored.
 */
export async function checkIntegrity(db: Db, b: Backup, actorId: string | null): Promise<{ ok: true } | { ok: false; why: string }> {
  if (b.status === "damaged") return { ok: false, why: b.verifyNote ?? "the backup is damaged" };
  if (b.status !== "succeeded" || !b.file || !b.sha256) return { ok: false, why: `the backup is ${b.status}` };
  const now = await checksumOf(b.file);
  if (now === b.sha256) return { ok: true };
  const why = now === null ? "damaged: its file is missing from the backup store" : `damaged: its file no longer matches its checksum (sha256 ${now.slice(0, 12)}…, recorded ${b.sha256.slice(0, 12)}…)`;
  await db.update(backups).set({ status: "damaged", verifyNote: why }).where(eq(backups.id, b.id));
  await writeAudit(db, { actorId, action: "backup.damaged", targetType: "backup", targetId: b.id, data: { environment: b.environmentId, why } });
  return { ok: false, why };
}

/**
 * Asks to bring the environment back from one of its backups (owner or admin): in place, with
 * the same name, addresses and MACs; or as a new order (clone.ts). Refused with 409 when the
 * backup is not complete or is damaged.
 */
export async function requestRestore(db: Db, actor: Actor, environmentId: string, input: RestoreInput) {
  await environmentForOwner(db, actor, environmentId);
  const b = await backupOf(db, environmentId, input.backup);
  const integrity = await checkIntegrity(db, b, actor.id);
  if (!integrity.ok) throw conflict(`Backup ${b.id} cannot be restored: ${integrity.why}`, "backup");
  if (input.mode === "new") return requestRestoreAsNew(db, actor, b, input.name!);
  const action = await requestAction(db, actor, environmentId, "restore", {
    auditData: { backup: b.id, mode: input.mode },
    onCreate: async (tx, row) => {
      await tx.insert(backupActionTargets).values({ actionId: row.id, backupId: b.id, mode: input.mode });
    },
  });
  return { ...action, backup: b.id, mode: input.mode };
}

/**
 * Asks to prove a backup now (owner or admin): a `verify` action boots it in a throwaway guest
 * and reads its marker back (see proveBackup). A damaged backup is refused with 409.
 */
export async function requestVerification(db: Db, actor: Actor, environmentId: string, backupId: string) {
  await environmentForOwner(db, actor, environmentId);
  const b = await backupOf(db, environmentId, backupId);
  const integrity = await checkIntegrity(db, b, actor.id);
  if (!integrity.ok) throw conflict(`Backup ${b.id} cannot be verified: ${integrity.why}`, "backup");
  const action = await requestAction(db, actor, environmentId, "verify", {
    auditData: { backup: b.id },
    onCreate: async (tx, row) => {
      await tx.insert(backupActionTargets).values({ actionId: row.id, backupId: b.id });
    },
  });
  return { ...action, backup: b.id };
}
