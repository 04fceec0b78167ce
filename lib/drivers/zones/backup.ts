/**
 * Backup, in-place restore and proven restore (a throwaway zone) of a Solaris zone as command
 * plans. NOT run on a real Solaris host: written from shared/reference/hypervisors.md
 * (`zfs snapshot` + `zfs send`) and checked against golden files and the host emulators only.
 * The zone's /data is a child dataset of the zonepath's (./plan.ts): snapshots are taken with -r,
 * sent as one replication stream (`zfs send -R`) and destroyed with -r, so a backup holds the
 * root and /data of one instant and a restore brings both back.
 * The portal streams `file` back to its backup store (or up from it) and removes it.
 */
import { assertBackupFile, verifyGuest } from "../plan/backup-file";
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { ZonesHostConfig } from "./config";
import { zoneBootStep, zoneHaltStep, zoneNames, zonecfgFile, zonesProvisionPlan, zonesTeardownPlan } from "./plan";
import { assertMarker } from "../console-marker";
import { shellQuoteArgv } from "../transport/quote";
import { BACKUP_MARKER_FILE, GUEST_HOOK_INPUT, GUEST_HOOKS, StepError, type GuestHook } from "../types";

const noSnapshot = { when: /could not find any snapshots|dataset does not exist/, advice: "" };

/**
 * The snapshot a backup sends, one name for every backup of a zone (one runs at a time): a
 * restore's `zfs receive` brings it along and removes it by that name, so the dataset keeps no
 * snapshot that would stop the next `zfs receive -F`.
 */
export const ZONE_BACKUP_SNAPSHOT = "portal-backup";

/** A ZFS snapshot of the running zone's dataset (a consistent point), sent compressed to `file`, snapshot destroyed. */
export function zoneBackupPlan(spec: DeploySpec, cfg: ZonesHostConfig, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const s = zoneNames(spec, cfg);
  const snap = `${s.dataset}@${ZONE_BACKUP_SNAPSHOT}`;
  return [
    {
      step: "backup-snapshot",
      description: `Snapshot ${s.dataset} for a backup`,
      actions: [
        run(["zfs", "destroy", "-r", snap], "A snapshot left by a backup that stopped half-way would be stale", { alreadyDone: { ...noSnapshot, note: "no snapshot left from an earlier backup" } }),
        run(["zfs", "snapshot", "-r", snap], "Point-in-time copy of the zonepath and /data while the zone runs"),
      ],
    },
    {
      step: "backup-copy",
      description: `Send ${snap}, compressed, to ${file}`,
      actions: [
        run(["mkdir", "-p", file.slice(0, file.lastIndexOf("/"))], "Where the copy waits until the portal has it"),
        run(["sh", "-c", 'zfs send -R "$1" | gzip -c > "$2"', "sh", snap, file], "A full replication stream of the snapshot, /data included", { timeoutMs: 4 * 60 * 60_000 }),
        run(["digest", "-a", "sha256", file], "Checksum on the host, compared with the portal's after the transfer"),
      ],
    },
    {
      step: "backup-cleanup",
      description: `Destroy ${snap}`,
      actions: [run(["zfs", "destroy", "-r", snap], "The snapshots are no longer needed", { alreadyDone: noSnapshot })],
    },
  ];
}

/**
 * Zone halted, the stream received over its dataset (`zfs receive -F`: the zonepath as it was at
 * the backup), mounted at the zonepath again, the zone booted with its own configuration (same
 * addresses). On a real host, `-F` refuses while the dataset has snapshots of its own (the
 * owner's): the step fails saying so and the zone boots as it was.
 */
export function zoneRestorePlan(spec: DeploySpec, cfg: ZonesHostConfig, file: string): PlanStep[] {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const s = zoneNames(spec, cfg);
  return [
    zoneHaltStep(spec),
    {
      step: "restore-copy",
      description: `Receive ${file} over ${s.dataset}`,
      actions: [
        run(["sh", "-c", 'gzip -dc "$1" | zfs receive -F "$2"', "sh", file, s.dataset], "The zonepath and /data as they were at the backup", {
          hint: `if ${s.dataset} has snapshots, delete them (the owner's snapshots of this environment) and retry; the zone boots as it was otherwise`,
          timeoutMs: 4 * 60 * 60_000,
        }),
        run(["zfs", "destroy", "-r", `${s.dataset}@${ZONE_BACKUP_SNAPSHOT}`], "The snapshots the stream brought along are not needed", { alreadyDone: noSnapshot }),
        run(["zfs", "set", `mountpoint=${s.zonepath}`, s.dataset], "Mount it at the zonepath"),
        run(["chmod", "700", s.zonepath], "zoneadm requires the zonepath to be private (mode 700)"),
        run(["rm", "-f", file], "The transfer copy is no longer needed"),
      ],
    },
    zoneBootStep(spec),
  ];
}

/**
 * Writes the backup's marker into the running zone before its snapshot: `zlogin` hands its
 * arguments to the zone's shell as one line, so the command is quoted for that shell
 * (quote.ts) and the marker and path arrive as arguments of `sh -c`, never as code.
 */
export function zoneMarkerStep(spec: DeploySpec, marker: string): PlanStep {
  assertSafeSpec(spec);
  assertMarker(marker);
  const dir = BACKUP_MARKER_FILE.slice(0, BACKUP_MARKER_FILE.lastIndexOf("/"));
  const inZone = shellQuoteArgv(["sh", "-c", 'mkdir -p "$3" && echo "$1" > "$2" && sync', "sh", marker, BACKUP_MARKER_FILE, dir]);
  return {
    step: "backup-marker",
    description: `Write the backup's marker to ${BACKUP_MARKER_FILE} in ${spec.hostname}`,
    actions: [run(["zlogin", spec.hostname, inZone], "A line a proven restore reads back from the copy")],
  };
}

/**
 * A proven restore: the backup (uploaded to `file`) received as a throwaway dataset, attached
 * and booted as zone verify-<probe> with no net resource (nothing can reach it, it reaches
 * nothing), waited for until its SSH service is online; the portal then reads the marker with
 * zlogin and runs `cleanup`, also when anything failed.
 */
export function zoneVerifyPlan(spec: DeploySpec, cfg: ZonesHostConfig, probe: string, file: string): { boot: PlanStep[]; cleanup: PlanStep } {
  assertSafeSpec(spec);
  assertBackupFile(file);
  const guest = verifyGuest(spec, probe);
  const n = zoneNames(guest, cfg);
  const zoneCfg = zonecfgFile(guest, cfg).replace("set autoboot=true", "set autoboot=false");
  const provision = zonesProvisionPlan(guest, cfg);
  const ready = provision.steps.find((x) => x.step === "wait_ready")!;
  return {
    boot: [
      {
        step: "verify-disk",
        description: `Receive the backup as a throwaway dataset ${n.dataset}`,
        actions: [
          run(["sh", "-c", 'gzip -dc "$1" | zfs receive "$2"', "sh", file, n.dataset], "The zonepath and /data as they were at the backup", {
            hint: `if ${n.dataset} is left from an earlier verification, destroy it (zfs destroy -r ${n.dataset}) and retry`,
            timeoutMs: 4 * 60 * 60_000,
          }),
          run(["zfs", "set", `mountpoint=${n.zonepath}`, n.dataset], "Mount it at the throwaway zonepath"),
          run(["chmod", "700", n.zonepath], "zoneadm requires the zonepath to be private (mode 700)"),
          run(["rm", "-f", file], "The transfer copy is no longer needed"),
        ],
      },
      {
        step: "verify-boot",
        description: `Attach and boot ${guest.hostname} with no network`,
        actions: [
          run(["mkdir", "-p", cfg.stageDir], "Directory for the zone's command file"),
          write(n.cfgFile, zoneCfg, 0o644, "zonecfg command file: the environment's root type and caps, the throwaway zonepath, no net, no autoboot"),
          run(["zonecfg", "-z", guest.hostname, "-f", n.cfgFile], "Configure the throwaway zone"),
          run(["zoneadm", "-z", guest.hostname, "attach", "-F"], "Take the received zonepath as installed (forced: it is a copy of an installed zone, not a detached one)"),
          run(["zoneadm", "-z", guest.hostname, "boot"], "Boot the copy"),
          ...ready.actions,
        ],
      },
    ],
    cleanup: {
      step: "verify-cleanup",
      description: `Remove zone ${guest.hostname} and its dataset`,
      actions: [
        ...zonesTeardownPlan(guest, cfg).steps.flatMap((x) => x.actions),
        run(["rm", "-f", file], "Remove the transfer copy"),
      ],
    },
  };
}

/**
 * The argv that runs a recipe's hook (GUEST_HOOKS) in the running zone through zlogin, which
 * hands its words to the zone's shell as one line: quoted by quote.ts; the hook's input line
 * goes on standard input, never on the command line.
 */
export function zoneHookArgv(spec: DeploySpec, hook: GuestHook, arg?: string): string[] {
  assertSafeSpec(spec);
  if (arg !== undefined && !GUEST_HOOK_INPUT.test(arg)) throw new StepError("a guest hook's argument has characters that are not allowed");
  return ["zlogin", spec.hostname, shellQuoteArgv([GUEST_HOOKS[hook], ...(arg ? [arg] : [])])];
}
