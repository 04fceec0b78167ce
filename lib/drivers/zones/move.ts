/** Zone moves between Solaris hosts as a command plan. NOT run on real Solaris hosts: tested against golden files and emulators. */
import { assertSafeSpec } from "../plan/validate";
import { run, type PlanStep } from "../plan/types";
import type { DeploySpec } from "../types";
import type { ZonesHostConfig } from "./config";
import { noZone, zoneBootStep, zoneHaltStep, zoneNames, zoneState } from "./plan";

/**
 * A cold move: Solaris 10 has no live migration of zones. Halt and detach on the source, send
 * the zonepath's dataset with its child /data (`zfs send -R`) to the target over the hosts' own SSH (`zfs send | ssh target zfs
 * receive`; a fixed script whose names arrive as positional parameters, never pasted into it),
 * attach with -u (update packages to the target's level) and boot there, then remove the source.
 *
 * With `boot: false` (a zone that was halted before the move) the zone is attached and left
 * installed on the target, as it was on the source: a start boots it there.
 */
export function zoneMovePlan(
  spec: DeploySpec,
  cfg: ZonesHostConfig,
  target: DeploySpec["host"],
  targetCfg: ZonesHostConfig,
  targetAddress: string,
  snapshot: string,
  opts: { boot?: boolean } = {},
) {
  const boot = opts.boot ?? true;
  assertSafeSpec(spec);
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(snapshot)) throw new Error("invalid snapshot name");
  const s = zoneNames(spec, cfg);
  const t = zoneNames(spec, targetCfg);
  const snap = `${s.dataset}@${snapshot}`;
  const detached = { when: /detach operation is invalid for configured zones/, advice: "" };
  return {
    preflight: {
      step: "move-preflight",
      description: `On ${target.name}: no zone named ${t.zone} yet`,
      actions: [
        run(["zoneadm", "-z", t.zone, "list", "-p"], "The zone name is free on the target", {
          alreadyDone: { when: noZone, advice: "", note: `no zone named ${t.zone} on ${target.name} yet: good` },
          expect: { stdout: /^(?![\s\S])/, problem: `${target.name} already has a zone named ${t.zone}` },
        }),
      ],
    } satisfies PlanStep,
    detach: {
      step: "move-detach",
      description: `On ${spec.host.name}: halt and detach ${s.zone}, snapshot and send ${s.dataset} to ${target.name}`,
      actions: [
        zoneHaltStep(spec).actions[0]!,
        run(["zoneadm", "-z", s.zone, "detach"], "Detach: the zonepath now carries the zone's package list for the target", { alreadyDone: detached }),
        run(["zfs", "snapshot", "-r", snap], "Point-in-time copy of the zonepath and /data to send", { alreadyDone: { when: /dataset already exists/, advice: "" } }),
        run(["sh", "-c", 'zfs send -R "$1" | ssh "$2" zfs receive -F "$3"', "sh", snap, targetAddress, t.dataset], `Send the datasets (zonepath and /data) to ${target.name} over the hosts' SSH`, { timeoutMs: 4 * 60 * 60_000 }),
      ],
    } satisfies PlanStep,
    attach: {
      step: "move-attach",
      description: `On ${target.name}: attach ${t.zone} at ${t.zonepath}${boot ? " and boot it" : "; it stays halted"}`,
      actions: [
        run(["zfs", "set", `mountpoint=${t.zonepath}`, t.dataset], "Mount the received dataset at the zonepath"),
        run(["zonecfg", "-z", t.zone, "create", "-a", t.zonepath], "Configuration from the detached zonepath", {
          alreadyDone: { when: /Zone exists, input not from terminal|already installed; create not allowed/, advice: "" },
        }),
        run(["zoneadm", "-z", t.zone, "attach", "-u"], "Attach, updating packages to this host's level", {
          alreadyDone: { when: /attach operation is invalid for (installed|ready|running) zones/, advice: "" },
        }),
        ...(boot
          ? [
              zoneBootStep(spec).actions[0]!,
              run(["zoneadm", "-z", t.zone, "list", "-p"], `Zone ${t.zone} running on the target`, {
                until: { ready: zoneState(t.zone, "running"), what: `zone ${t.zone} to run on ${target.name}`, attempts: 60, intervalMs: 2000 },
              }),
            ]
          : [
              run(["zoneadm", "-z", t.zone, "list", "-p"], `Zone ${t.zone} installed (halted) on the target`, {
                expect: { stdout: zoneState(t.zone, "installed"), problem: `zone ${t.zone} is not installed on ${target.name} after the attach` },
              }),
            ]),
        run(["zfs", "destroy", "-r", `${t.dataset}@${snapshot}`], "The transfer snapshots are no longer needed", { alreadyDone: { when: /could not find any snapshots|dataset does not exist/, advice: "" } }),
      ],
    } satisfies PlanStep,
    cleanup: {
      step: "move-cleanup",
      description: `On ${spec.host.name}: delete the detached zone and its dataset`,
      actions: [
        run(["zonecfg", "-z", s.zone, "delete", "-F"], "Remove the detached zone's configuration", { alreadyDone: { when: noZone, advice: "" } }),
        run(["zfs", "destroy", "-r", s.dataset], "Destroy the old zonepath and its snapshot", { alreadyDone: { when: /dataset does not exist/, advice: "" } }),
        run(["rm", "-f", s.cfgFile], "Remove the zonecfg command file"),
      ],
    } satisfies PlanStep,
  };
}
