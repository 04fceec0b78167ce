/**
 * Backup, in-place restore and proven restore (a throwaway domain) of a Xen guest as command
 * plans. NOT run on a real Xen host: written from shared/reference/hypervisors.md (LVM
 * snapshot, then a copy) and checked against golden files and the host emulators only. The
 * portal streams `file` back to its backup store (or up from it) and removes it.
 */
import { assertBackupFile, verifyGuest } from "../plan/backup-file";
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { noDomain, xenDomainConfig, xenHaltStep, xenNames, xenSnapshotStep, xenStartStep } from "./plan";

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
        run(["mkdir", "-p", file.slice(0, file.lastIndexOf("/"))], "Where the copy waits until the portal has it"),
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

/**
 * A proven restore: the backup (uploaded to `file`) written onto an LV of its own and booted as
 * domain verify-<probe> with no vif (nothing can reach it, it reaches nothing); the portal then
 * reads the marker through its console and runs `cleanup`, also when anything failed.
 */
export function xenVerifyPlan(spec: DeploySpec, cfg: XenHostConfig, probe: string, file: string): { boot: PlanStep[]; cleanup: PlanStep } {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const guest = verifyGuest(spec, probe);
  const n = xenNames(guest, cfg);
  const config = xenDomainConfig(guest, cfg).replace("on_reboot   = \"restart\"", "on_reboot   = \"destroy\"").replace("on_crash    = \"restart\"", "on_crash    = \"destroy\"");
  return {
    boot: [
      {
        step: "verify-disk",
        description: `Write the backup onto a throwaway volume ${n.lvPath}`,
        actions: [
          run(["lvcreate", "-L", `${spec.flavor.diskGb}G`, "-n", n.lv, n.vg], "A volume of the environment's size, for the copy only", {
            hint: `if ${n.lvPath} is left from an earlier verification, remove it (lvremove -f ${n.lvPath}) and retry`,
          }),
          run(["sh", "-c", 'gzip -dc "$1" | dd of="$2" bs=4M conv=fsync 2>/dev/null', "sh", file, n.device], "The disk as it was at the backup", { timeoutMs: 4 * 60 * 60_000 }),
          run(["rm", "-f", file], "The transfer copy is no longer needed"),
        ],
      },
      {
        step: "verify-boot",
        description: `Boot ${guest.hostname} from it with no network interface`,
        actions: [
          write(n.configFile, config, 0o644, "Domain configuration: the environment's memory and vCPUs, the throwaway volume, no vif, gone on reboot or crash"),
          run(["xl", "create", n.configFile], "Build and start the throwaway domain"),
          run(["xl", "list", guest.hostname], `Domain ${guest.hostname} running or blocked (idle)`, {
            until: { ready: new RegExp(`^${guest.hostname}\\s+\\d+\\s+\\d+\\s+\\d+\\s+[-rbpsc]*[rb]`, "m"), what: `domain ${guest.hostname} to run`, attempts: 60, intervalMs: 2000 },
          }),
        ],
      },
    ],
    cleanup: {
      step: "verify-cleanup",
      description: `Remove ${guest.hostname}, its volume and its configuration`,
      actions: [
        run(["xl", "destroy", guest.hostname], "Hard stop: nothing in it is kept", { alreadyDone: noDomain }),
        run(["lvremove", "-f", n.lvPath], "Remove the throwaway volume", { alreadyDone: { when: /Failed to find logical volume/, advice: "" } }),
        run(["rm", "-f", n.configFile, file], "Remove its configuration and the transfer copy"),
      ],
    },
  };
}
