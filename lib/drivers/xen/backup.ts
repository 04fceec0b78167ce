/**
 * Backup and in-place restore of a Xen guest as command plans. NOT run on a real Xen host:
 * written from shared/reference/hypervisors.md (LVM snapshot, then a copy) and checked against
 * golden files only. The portal streams `file` back to its backup store and removes it.
 */
import { assertBackupFile } from "../plan/backup-file";
import { run, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { xenHaltStep, xenNames, xenSnapshotStep, xenStartStep } from "./plan";

/** Snapshot of the running guest's LV (a consistent point), compressed copy of it to `file`, snapshot removed. */
export function xenBackupPlan(spec: DeploySpec, cfg: XenHostConfig, label: string, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const n = xenNames(spec, cfg);
  const snapshot = `${n.lv}-${label}`;
  return [
    xenSnapshotStep(spec, cfg, label),
    {
      step: "backup-copy",
      description: `Copy the snapshot of ${n.lvPath}, compressed, to ${file}`,
      actions: [
        run(["sh", "-c", 'dd if="$1" bs=4M 2>/dev/null | gzip -c > "$2"', "sh", `/dev/${n.vg}/${snapshot}`, file], "Read the frozen snapshot while the guest goes on writing", { timeoutMs: 4 * 60 * 60_000 }),
        run(["sha256sum", file], "Checksum on the host, compared with the portal's after the transfer"),
      ],
    },
    {
      step: "backup-cleanup",
      description: `Remove the snapshot ${n.vg}/${snapshot}`,
      actions: [run(["lvremove", "-f", `${n.vg}/${snapshot}`], "The snapshot is no longer needed", { alreadyDone: { when: /Failed to find logical volume/, advice: "" } })],
    },
  ];
}

/** Guest shut down, the backup written back onto its LV, the guest started again with its own config (same MACs). */
export function xenRestorePlan(spec: DeploySpec, cfg: XenHostConfig, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const n = xenNames(spec, cfg);
  return [
    xenHaltStep(spec, cfg),
    {
      step: "restore-copy",
      description: `Write ${file} back onto ${n.device}`,
      actions: [
        run(["sh", "-c", 'gzip -dc "$1" | dd of="$2" bs=4M conv=fsync 2>/dev/null', "sh", file, n.device], "The disk as it was at the backup", { timeoutMs: 4 * 60 * 60_000 }),
        run(["rm", "-f", file], "The transfer copy is no longer needed"),
      ],
    },
    xenStartStep(spec, cfg),
  ];
}
