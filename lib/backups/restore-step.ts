import { eq } from "drizzle-orm";
import { backups } from "../db/schema";
import { StepError } from "../drivers/types";
import { deploySpec } from "../pipeline/context";
import { driverFor } from "../pipeline/drivers";
import type { InjectedStep } from "../pipeline/engine";
import { checkIntegrity } from "./backups";
import { openBackupFile } from "./store";

/**
 * The "restore_disk" step of a rebuild that rolls back (lib/pipeline/runs.ts createRebuildRun
 * with restoreBackupId): the backup's checksum is checked again (a damaged one is never
 * restored), its definition must be this environment's (same name and MACs), then the driver
 * puts its disk in place of the kept one while the guest is down; the boot step follows.
 * Running it again puts the same disk in place again.
 */
export const restoreDiskStep: InjectedStep = async (db, ctx, io, run) => {
  if (!run.restoreBackupId) {
    await io.log("this rebuild restores no backup; nothing to do");
    return;
  }
  const [backup] = await db.select().from(backups).where(eq(backups.id, run.restoreBackupId));
  if (!backup || backup.environmentId !== ctx.environment?.id) throw new StepError("the backup to restore is not one of this environment's");
  const integrity = await checkIntegrity(db, backup, null);
  if (!integrity.ok) throw new StepError(`backup ${backup.id} was not restored: ${integrity.why}`);
  const spec = deploySpec(ctx);
  const def = backup.definition!;
  const macs = (list: { mac: string }[]) => list.map((a) => a.mac).sort().join(",");
  if (def.hostname !== spec.hostname || macs(def.addresses) !== macs(spec.addresses)) {
    throw new StepError(`backup ${backup.id} is of ${def.hostname} (${macs(def.addresses)}), not of this environment as it is now`);
  }
  const driver = driverFor(spec.host.kind, db);
  if (!driver.replaceDisk) throw new StepError(`on ${spec.host.kind} hosts a rebuild cannot put a backup in place in this version; restore it from the environment's Backups once it runs`);
  const disk = await openBackupFile(backup.file!, def.diskFormat);
  await io.log(`backup of ${backup.createdAt.toISOString()}: ${(disk.sizeBytes / 1024 ** 2).toFixed(1)} MiB compressed, checksum verified`);
  await driver.replaceDisk(spec, disk, io);
};
