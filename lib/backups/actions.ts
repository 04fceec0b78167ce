import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { backupActionTargets, backups, environments, type BackupDefinition } from "../db/schema";
import { StepError, type DeploySpec, type MigrateIo } from "../drivers/types";
import type { ActionHandler } from "../lifecycle/actions";
import { checkIntegrity } from "./backups";
import { pruneBackups } from "./policy";
import { backupFileName, openBackupFile, removeBackupFile, writeBackupFile } from "./store";

/** What the backup keeps of the environment's definition beside its disk. */
function definitionOf(spec: DeploySpec, diskFormat: string): BackupDefinition {
  return {
    hostname: spec.hostname,
    host: { name: spec.host.name, kind: spec.host.kind },
    image: spec.image.slug,
    flavor: { vcpus: spec.flavor.vcpus, memoryMb: spec.flavor.memoryMb, diskGb: spec.flavor.diskGb },
    addresses: spec.addresses.map((a) => ({ network: a.network, ip: a.ip, mac: a.mac })),
    diskFormat,
  };
}

/**
 * The `backup` action: the driver copies the disk (live where it can), the portal compresses
 * it into the backup store with its checksum and the definition. A redelivered job after the
 * file was recorded does nothing again; a failure marks the backup failed with the reason.
 */
export const backupEnvironment: ActionHandler = async (db, ctx, io) => {
  const { spec, driver, action } = ctx;
  const [b] = await db.select().from(backups).where(eq(backups.actionId, action.id));
  if (!b) throw new StepError("the backup's record is missing");
  if (b.status === "succeeded") return { backup: b.id, sizeBytes: b.sizeBytes, sha256: b.sha256 };
  await db.update(backups).set({ status: "running", error: null }).where(eq(backups.id, b.id));
  let file = "";
  let recorded = false;
  try {
    await io.progress(5, `copying the disk of ${spec.hostname} on ${spec.host.name}`);
    const marker = `portal-backup ${b.id}`;
    // The copy streams from the host through gzip and sha256 into the store, never whole in memory.
    const disk = await driver.exportDisk(spec, io, async (copy) => {
      file = backupFileName(b.environmentId, b.id, copy.format);
      await io.progress(30, `streaming the copy into the backup store${copy.compressed ? " (compressed on the host)" : ", compressing"}`);
      return { format: copy.format, ...(await writeBackupFile(file, copy.stream, { compressed: copy.compressed })) };
    }, { marker });
    if (!file) throw new StepError("the driver finished without handing over a disk copy");
    const { sizeBytes, sha256 } = disk;
    const [written] = await db
      .update(backups)
      .set({ status: "succeeded", file, sizeBytes, sha256, marker: disk.marker ? marker : null, definition: definitionOf(spec, disk.format), finishedAt: new Date() })
      .where(eq(backups.id, b.id))
      .returning();
    recorded = true;
    await io.progress(60, `backup written: ${(sizeBytes / 1024 ** 2).toFixed(1)} MiB compressed, sha256 ${sha256.slice(0, 12)}…`);
    // Every backup is proven right away; a verification that fails leaves the backup usable and says why.
    const verified = await proveBackup(db, ctx, written, io);
    const pruned = await pruneBackups(db, b.environmentId);
    const prunedNote = pruned.length ? `; ${pruned.length} older backup${pruned.length === 1 ? "" : "s"} pruned (keep last)` : "";
    await io.progress(100, `backup written${verified ? ", booted and read back" : ", not verified"}${prunedNote}`);
    return { backup: b.id, sizeBytes, sha256, verified, pruned };
  } catch (err) {
    if (err instanceof StepError) {
      await db.update(backups).set({ status: "failed", error: err.message, finishedAt: new Date() }).where(eq(backups.id, b.id));
      // A copy that arrived but was refused (e.g. its checksum differs from the host's) is not kept.
      if (file && !recorded) await removeBackupFile(file);
    }
    throw err;
  }
};

/**
 * The in-place `restore` action: the backup's checksum is checked again (a damaged file is
 * never restored), its definition must be this environment's (same name and MACs), then the
 * driver stops the guest, swaps the disk and boots it with its own addresses until ready.
 */
export const restoreEnvironment: ActionHandler = async (db, ctx, io) => {
  const { spec, driver, action } = ctx;
  const row = await targetOf(db, action.id);
  const { backup } = row;
  await io.progress(5, `checking backup ${backup.id} against its checksum`);
  const integrity = await checkIntegrity(db, backup, action.requestedBy);
  if (!integrity.ok) throw new StepError(`backup ${backup.id} was not restored: ${integrity.why}`);
  const def = backup.definition!;
  const macs = (list: { mac: string }[]) => list.map((a) => a.mac).sort().join(",");
  // A restore as a new environment puts the disk on a guest with its own name and addresses.
  if (row.target.mode !== "new" && (def.hostname !== spec.hostname || macs(def.addresses) !== macs(spec.addresses))) {
    throw new StepError(`backup ${backup.id} is of ${def.hostname} (${macs(def.addresses)}), not of this environment as it is now; restore it as a new environment instead`);
  }
  const disk = await openBackupFile(backup.file!, def.diskFormat);
  await io.progress(20, `restoring ${(disk.sizeBytes / 1024 ** 2).toFixed(1)} MiB (compressed) onto ${spec.hostname}; the guest stops and boots again`);
  await db.update(environments).set({ state: "stopped" }).where(eq(environments.id, action.environmentId));
  await driver.importDisk(spec, disk, io);
  await db.update(environments).set({ state: "running" }).where(eq(environments.id, action.environmentId));
  await io.progress(100, `${spec.hostname} is back from the backup of ${backup.createdAt.toISOString()}${row.target.mode === "new" ? ` of ${def.hostname}, with addresses of its own` : ", with its addresses and MACs"}`);
  return { backup: backup.id, mode: row.target.mode };
};

async function targetOf(db: Db, actionId: string) {
  const [row] = await db
    .select({ target: backupActionTargets, backup: backups })
    .from(backupActionTargets)
    .innerJoin(backups, eq(backups.id, backupActionTargets.backupId))
    .where(eq(backupActionTargets.actionId, actionId));
  if (!row) throw new StepError("the action's backup is not recorded");
  return row;
}

/**
 * A proven restore: the backup's file (checksum checked) is booted by the driver as a throwaway
 * guest on a network of its own, and must show the marker the backup job wrote into the guest.
 * Records "verified at" or why not on the backup; true when verified.
 */
async function proveBackup(db: Db, ctx: Parameters<ActionHandler>[1], backup: typeof backups.$inferSelect, io: MigrateIo): Promise<boolean> {
  const { driver, spec, action } = ctx;
  const record = async (note: string | null) => {
    await db.update(backups).set(note ? { verifyNote: `not verified: ${note}` } : { verifiedAt: new Date(), verifyNote: null }).where(eq(backups.id, backup.id));
    await io.log(note ? `not verified: ${note}` : "verified: booted and read back");
    return note === null;
  };
  const integrity = await checkIntegrity(db, backup, action.requestedBy);
  if (!integrity.ok) throw new StepError(`backup ${backup.id} was not verified: ${integrity.why}`);
  if (!backup.marker) return record("the backup holds no marker to read back (the guest was stopped, or its console did not answer when the backup was taken)");
  await io.progress(65, `booting the backup in a throwaway guest on an isolated network`);
  try {
    const disk = await openBackupFile(backup.file!, backup.definition!.diskFormat);
    const seen = await driver.verifyDisk(spec, disk, backup.id.replace(/-/g, "").slice(0, 8), io);
    return record(seen.marker === backup.marker ? null : `the copy booted, but ${seen.marker ? `its marker is "${seen.marker}"` : "it has no marker"} instead of "${backup.marker}"`);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    return record(`the copy did not boot: ${err.message}`);
  }
}

/** The on-demand `verify` action: proves the backup again (see proveBackup). */
export const verifyBackup: ActionHandler = async (db, ctx, io) => {
  const { backup } = await targetOf(db, ctx.action.id);
  const verified = await proveBackup(db, ctx, backup, io);
  await io.progress(100, verified ? "verified: booted and read back" : "not verified");
  return { backup: backup.id, verified };
};
