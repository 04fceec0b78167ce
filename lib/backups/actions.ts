import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { backupRestores, backups, environments, type BackupDefinition } from "../db/schema";
import { StepError, type DeploySpec } from "../drivers/types";
import type { ActionHandler } from "../lifecycle/actions";
import { checkIntegrity } from "./backups";
import { backupFileName, readBackupFile, writeBackupFile } from "./store";

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
  if (!driver.exportDisk) throw new StepError(`environments on ${spec.host.kind} hosts cannot be backed up`);
  await db.update(backups).set({ status: "running", error: null }).where(eq(backups.id, b.id));
  try {
    await io.progress(5, `copying the disk of ${spec.hostname} on ${spec.host.name}`);
    const disk = await driver.exportDisk(spec, io);
    await io.progress(70, `compressing ${(disk.bytes.length / 1024 ** 2).toFixed(1)} MiB into the backup store`);
    const file = backupFileName(b.environmentId, b.id, disk.format);
    const { sizeBytes, sha256 } = await writeBackupFile(file, disk.bytes);
    await db
      .update(backups)
      .set({ status: "succeeded", file, sizeBytes, sha256, definition: definitionOf(spec, disk.format), finishedAt: new Date() })
      .where(eq(backups.id, b.id));
    await io.progress(100, `backup written: ${(sizeBytes / 1024 ** 2).toFixed(1)} MiB compressed, sha256 ${sha256.slice(0, 12)}…`);
    return { backup: b.id, sizeBytes, sha256 };
  } catch (err) {
    if (err instanceof StepError) await db.update(backups).set({ status: "failed", error: err.message, finishedAt: new Date() }).where(eq(backups.id, b.id));
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
  const [row] = await db.select({ restore: backupRestores, backup: backups }).from(backupRestores).innerJoin(backups, eq(backups.id, backupRestores.backupId)).where(eq(backupRestores.actionId, action.id));
  if (!row) throw new StepError("the restore's record is missing");
  const { backup } = row;
  if (!driver.importDisk) throw new StepError(`environments on ${spec.host.kind} hosts cannot be restored in place`);
  await io.progress(5, `checking backup ${backup.id} against its checksum`);
  const integrity = await checkIntegrity(db, backup, action.requestedBy);
  if (!integrity.ok) throw new StepError(`backup ${backup.id} was not restored: ${integrity.why}`);
  const def = backup.definition!;
  const macs = (list: { mac: string }[]) => list.map((a) => a.mac).sort().join(",");
  if (def.hostname !== spec.hostname || macs(def.addresses) !== macs(spec.addresses)) {
    throw new StepError(`backup ${backup.id} is of ${def.hostname} (${macs(def.addresses)}), not of this environment as it is now; restore it as a new environment instead`);
  }
  const bytes = await readBackupFile(backup.file!);
  await io.progress(20, `restoring ${(bytes.length / 1024 ** 2).toFixed(1)} MiB onto ${spec.hostname}; the guest stops and boots again`);
  await db.update(environments).set({ state: "stopped" }).where(eq(environments.id, action.environmentId));
  await driver.importDisk(spec, { format: def.diskFormat, bytes }, io);
  await db.update(environments).set({ state: "running" }).where(eq(environments.id, action.environmentId));
  await io.progress(100, `${spec.hostname} is back from the backup of ${backup.createdAt.toISOString()}, with its addresses and MACs`);
  return { backup: backup.id, mode: row.restore.mode };
};
