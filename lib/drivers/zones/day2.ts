/**
 * Snapshots and resize of a Solaris 10 zone as command plans (zfs, zonecfg, zoneadm), from
 * shared/reference/hypervisors.md section 2 and zfs(1M)/zonecfg(1M). NOT run on a real
 * Solaris host: tested against reviewed golden files and the host emulators in tests/emulators/.
 *
 * A snapshot is a recursive ZFS snapshot `<zonepath dataset>@<tag>` (with its child, the zone's
 * /data dataset, at the same instant). A revert halts the zone, rolls both datasets back (`zfs rollback` without -r: ZFS refuses when newer snapshots exist, and the
 * portal does not destroy the owner's newer snapshots behind their back; the message says to
 * delete them first) and boots it again when it ran.
 */
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { ZonesHostConfig } from "./config";
import { zoneBootStep, zoneCpuShares, zoneHaltStep, zoneNames, zoneSize } from "./plan";

const TAG = /^[a-z0-9][a-z0-9-]{0,39}$/;

function snapshotName(spec: DeploySpec, cfg: ZonesHostConfig, tag: string): string {
  assertSafeSpec(spec);
  if (!TAG.test(tag)) throw new Error(`invalid snapshot tag ${JSON.stringify(tag.slice(0, 50))}`);
  return `${zoneNames(spec, cfg).dataset}@${tag}`;
}

export function zoneSnapshotStep(spec: DeploySpec, cfg: ZonesHostConfig, tag: string): PlanStep {
  const snap = snapshotName(spec, cfg, tag);
  return {
    step: "snapshot",
    description: `ZFS snapshot ${snap} of the zonepath and /data`,
    actions: [run(["zfs", "snapshot", "-r", snap], "Snapshot the zone's datasets (zonepath and /data, one instant)", { alreadyDone: { when: /dataset already exists/, advice: "" } })],
  };
}

export function zoneRevertPlan(spec: DeploySpec, cfg: ZonesHostConfig, tag: string, boot: boolean): PlanStep[] {
  const snap = snapshotName(spec, cfg, tag);
  return [
    zoneHaltStep(spec),
    {
      step: "revert",
      description: `Roll ${zoneNames(spec, cfg).dataset} back to ${snap}`,
      actions: [
        run(["zfs", "rollback", snap], "Put the zonepath back to the snapshot", {
          hint: "ZFS rolls back only to the latest snapshot: delete the newer snapshots of this environment first.",
          timeoutMs: 30 * 60_000,
        }),
        run(["zfs", "rollback", `${zoneNames(spec, cfg).data}@${tag}`], "Put /data back to the snapshot", {
          alreadyDone: { when: /dataset does not exist/, advice: "", note: "no /data in this snapshot (taken before the zone had a /data dataset)" },
          hint: "ZFS rolls back only to the latest snapshot: delete the newer snapshots of this environment first.",
          timeoutMs: 30 * 60_000,
        }),
      ],
    },
    ...(boot ? [zoneBootStep(spec)] : []),
  ];
}

export function zoneDeleteSnapshotStep(spec: DeploySpec, cfg: ZonesHostConfig, tag: string): PlanStep {
  const snap = snapshotName(spec, cfg, tag);
  return {
    step: "delete_snapshot",
    description: `Destroy the ZFS snapshot ${snap}`,
    actions: [
      run(["zfs", "destroy", "-r", snap], "Destroy the snapshot of the zonepath and of /data", {
        alreadyDone: { when: /could not find any snapshots to destroy|dataset does not exist/, advice: "", note: `${snap} is gone already` },
      }),
    ],
  };
}

/** One capped resource changed from `from` to `to`: select and set, remove, add, or nothing. */
function capCommands(type: "capped-cpu" | "capped-memory", from: string[] | null, to: string[] | null): string[] {
  if (from && to) return [`select ${type}`, ...to, "end"];
  if (from) return [`remove ${type}`];
  if (to) return [`add ${type}`, ...to, "end"];
  return [];
}

const cap = (n: number | null, unit: string) => (n ? `${n} ${unit}` : "none");

/** zonecfg commands that change an installed zone from one size to another (no `create`: the zone exists). */
export function zoneResizeCommands(spec: DeploySpec, from: DeploySpec["flavor"]): string {
  const cpu = (f: DeploySpec["flavor"]) => (f.cpuCap ? [`set ncpus=${f.cpuCap}`] : null);
  const mem = (f: DeploySpec["flavor"]) => (f.memoryCapMb ? [`set physical=${zoneSize(f.memoryCapMb)}`, `set swap=${zoneSize(f.memoryCapMb)}`] : null);
  return [
    `set cpu-shares=${zoneCpuShares(spec)}`,
    ...capCommands("capped-cpu", cpu(from), cpu(spec.flavor)),
    ...capCommands("capped-memory", mem(from), mem(spec.flavor)),
    "verify",
    "commit",
    "",
  ].join("\n");
}

/**
 * Resize: halt, change FSS shares and the CPU and memory caps with zonecfg, set the
 * quotas of the zonepath dataset and of /data to the new disk (it only grows: the API refuses a smaller one), boot.
 */
export function zoneResizePlan(spec: DeploySpec, from: DeploySpec["flavor"], cfg: ZonesHostConfig): PlanStep[] {
  assertSafeSpec(spec);
  const n = zoneNames(spec, cfg);
  const file = `${cfg.stageDir}/${spec.hostname}.resize.zonecfg`;
  return [
    zoneHaltStep(spec),
    {
      step: "resize",
      description: `${from.vcpus} -> ${spec.flavor.vcpus} vCPUs (FSS shares ${zoneCpuShares(spec)}), CPU cap ${cap(from.cpuCap, "CPUs")} -> ${cap(spec.flavor.cpuCap, "CPUs")}, memory cap ${cap(from.memoryCapMb, "MiB")} -> ${cap(spec.flavor.memoryCapMb, "MiB")}, disk ${spec.flavor.diskGb} GiB`,
      actions: [
        run(["mkdir", "-p", cfg.stageDir], "Directory for the command file"),
        write(file, zoneResizeCommands(spec, from), 0o600, "zonecfg commands for the new size"),
        run(["zonecfg", "-z", spec.hostname, "-f", file], "Change the zone's configuration"),
        run(["zfs", "set", `quota=${spec.flavor.diskGb}g`, n.dataset], `Let the zonepath hold up to ${spec.flavor.diskGb} GiB (its /data included)`),
        run(["zfs", "set", `quota=${spec.flavor.diskGb}g`, n.data], `Let /data hold up to ${spec.flavor.diskGb} GiB`, {
          alreadyDone: { when: /dataset does not exist/, advice: "", note: "the zone has no /data dataset of its own" },
        }),
        run(["rm", "-f", file], "Remove the command file"),
      ],
    },
    zoneBootStep(spec),
  ];
}
