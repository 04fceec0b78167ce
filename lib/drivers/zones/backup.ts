/**
 * Backup and in-place restore of a Solaris zone as command plans. NOT run on a real Solaris
 * host: written from shared/reference/hypervisors.md (`zfs snapshot` + `zfs send`) and checked
 * against golden files only. The portal streams `file` back to its backup store and removes it.
 */
import { assertBackupFile } from "../plan/backup-file";
import { run, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { ZonesHostConfig } from "./config";
import { zoneBootStep, zoneHaltStep, zoneNames } from "./plan";

const noSnapshot = { when: /could not find any snapshots|dataset does not exist/, advice: "" };

/** A ZFS snapshot of the running zone's dataset (a consistent point), sent compressed to `file`, snapshot destroyed. */
export function zoneBackupPlan(spec: DeploySpec, cfg: ZonesHostConfig, label: string, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(label)) throw new Error("invalid snapshot label");
  const s = zoneNames(spec, cfg);
  const snap = `${s.dataset}@${label}`;
  return [
    {
      step: "backup-snapshot",
      description: `Snapshot ${s.dataset} for a backup`,
      actions: [run(["zfs", "snapshot", snap], "Point-in-time copy of the zonepath while the zone runs", { alreadyDone: { when: /dataset already exists/, advice: "" } })],
    },
    {
      step: "backup-copy",
      description: `Send ${snap}, compressed, to ${file}`,
      actions: [
        run(["sh", "-c", 'zfs send "$1" | gzip -c > "$2"', "sh", snap, file], "A full stream of the snapshot", { timeoutMs: 4 * 60 * 60_000 }),
        run(["digest", "-a", "sha256", file], "Checksum on the host, compared with the portal's after the transfer"),
      ],
    },
    {
      step: "backup-cleanup",
      description: `Destroy ${snap}`,
      actions: [run(["zfs", "destroy", snap], "The snapshot is no longer needed", { alreadyDone: noSnapshot })],
    },
  ];
}

/**
 * Zone halted, the stream received beside its dataset, the two swapped (the old one destroyed
 * only after the swap), the zone booted again with its own configuration (same addresses).
 */
export function zoneRestorePlan(spec: DeploySpec, cfg: ZonesHostConfig, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const s = zoneNames(spec, cfg);
  const incoming = `${s.dataset}-restore`;
  const old = `${s.dataset}-old`;
  return [
    zoneHaltStep(spec),
    {
      step: "restore-copy",
      description: `Receive ${file} as ${incoming}, then put it in place of ${s.dataset}`,
      actions: [
        run(["sh", "-c", 'gzip -dc "$1" | zfs receive "$2"', "sh", file, incoming], "The zonepath as it was at the backup, beside the current one", {
          hint: `if ${incoming} exists, a restore stopped half-way: destroy it (zfs destroy -r ${incoming}) and retry`,
          timeoutMs: 4 * 60 * 60_000,
        }),
        run(["zfs", "rename", s.dataset, old], "Keep the current zonepath until the swap is done"),
        run(["zfs", "rename", incoming, s.dataset], "The restored dataset takes its place"),
        run(["zfs", "set", `mountpoint=${s.zonepath}`, s.dataset], "Mount it at the zonepath"),
        run(["zfs", "destroy", "-r", old], "The replaced zonepath is no longer needed", { alreadyDone: noSnapshot }),
        run(["rm", "-f", file], "The transfer copy is no longer needed"),
      ],
    },
    zoneBootStep(spec),
  ];
}
