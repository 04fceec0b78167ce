/**
 * Reinstall of a Xen guest keeping its data filesystem (/data in the guest), as command plans
 * (xl, LVM, mount, cp). NOT run on a real Xen host: written from lvrename(8), mount(8) and
 * cp(1), tested only against reviewed golden files (tests/golden/xen-reinstall-keep-data.plan)
 * and the host emulators in tests/emulators/ (tests/integration/xen-reinstall-data.test.ts).
 *
 * A Xen guest's /data lives on its one root volume, so the rebuild works around it: the halted
 * guest's volume is renamed aside to `<guest>.keep` (a name no guest can have: hostnames have
 * no dot) instead of being removed, the new root is built exactly as a delivery builds it
 * (plan.ts's storage and unpack steps, untouched), then both are mounted under the host's
 * mountDir (the old one read-only) and /data is copied across with owners, modes and times
 * (`cp -a`). Both are unmounted whatever happened; the old volume is removed only after the
 * copy succeeded. When the copy fails the new volume is removed and the old one gets its name
 * back, so the guest's disk is exactly as it was before the reinstall.
 *
 * For review on a real dom0: both volumes hold ext4 filesystems made from the same golden
 * image, so they share a filesystem UUID; ext4 mounts both (XFS would need `-o nouuid`). The
 * old guest was halted, possibly forced off: a read-only ext4 mount still replays its journal
 * (a write to the old volume, which is harmless here; `-o ro,noload` would skip it and may show
 * the last writes missing). On LVM, the old volume's own snapshots follow its rename and go
 * with it.
 */
import { run, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { noDomain, xenHaltStep, xenNames, xenProvisionPlan, xenStartStep } from "./plan";

export function keptNames(spec: DeploySpec, cfg: XenHostConfig) {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  const lv = `${n.lv}.keep`;
  return { ...n, keptLv: lv, keptPath: `${n.vg}/${lv}`, keptDevice: `/dev/${n.vg}/${lv}`, keptMount: `${cfg.mountDir}/${spec.hostname}.keep` };
}

const missingLv = /Failed to find logical volume|not found in volume group/;
const notMounted = { when: /not mounted|no mount point|mountpoint not found/, advice: "" };
const alreadyMounted = { when: /already mounted/, advice: "" };

/** Instead of teardown's destroy: the guest's volume renamed aside, its domain configuration kept (networking writes it again). */
export function xenSetAsideStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const k = keptNames(spec, cfg);
  return {
    step: "destroy",
    description: `Remove domain ${spec.hostname}; set its volume aside as ${k.keptPath} to copy /data from`,
    actions: [
      run(["xl", "destroy", spec.hostname], "Hard stop, in case the shutdown did not finish", { alreadyDone: noDomain }),
      run(["umount", k.mountPoint], "Unmount the guest's filesystem", { alreadyDone: notMounted }),
      run(["lvrename", k.vg, k.lv, k.keptLv], "Rename the guest's disk out of the way (kept until /data is copied)", {
        alreadyDone: {
          when: missingLv,
          verify: { argv: ["lvs", "--noheadings", "-o", "lv_name", k.keptPath], problem: (_out, code) => (code === 0 ? null : `neither ${k.lvPath} nor ${k.keptPath} exists`) },
          advice: "An admin checks the volume group (lvs) for the guest's disk.",
        },
        hint: `If ${k.keptLv} already exists, an earlier reinstall left it: an admin checks what is on it, then removes it (lvremove) or renames it back (lvrename ${k.vg} ${k.keptLv} ${k.lv})`,
      }),
    ],
  };
}

/** Both volumes mounted (the old one read-only), /data copied across with owners, modes and times. */
export function xenCopyDataStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const k = keptNames(spec, cfg);
  return {
    step: "keep_data",
    description: `Copy /data from the old disk ${k.keptPath} onto the new ${k.lvPath}`,
    actions: [
      run(["mkdir", "-p", k.keptMount, k.mountPoint], "Mount points for the old and the new disk"),
      run(["mount", "-o", "ro", k.keptDevice, k.keptMount], "Mount the old disk read-only", { alreadyDone: alreadyMounted }),
      run(["mount", k.device, k.mountPoint], "Mount the new disk", { alreadyDone: alreadyMounted }),
      run(["test", "-d", `${k.keptMount}/data`], "The old disk has a /data directory", { hint: "The old disk has no /data: there is nothing to keep; reinstall without keepData" }),
      run(["mkdir", "-p", `${k.mountPoint}/data`], "/data on the new disk, if the image has none"),
      run(["cp", "-a", `${k.keptMount}/data/.`, `${k.mountPoint}/data/`], "Copy /data, keeping owners, modes, times and links", { timeoutMs: 4 * 60 * 60_000 }),
    ],
  };
}

/** Run whatever happened to the copy: both disks unmounted. */
export function xenCopyCleanupStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const k = keptNames(spec, cfg);
  return {
    step: "keep_data_cleanup",
    description: "Unmount the old and the new disk",
    actions: [
      run(["umount", k.keptMount], "Unmount the old disk", { alreadyDone: notMounted }),
      run(["umount", k.mountPoint], "Unmount the new disk", { alreadyDone: notMounted }),
    ],
  };
}

/** After a successful copy (and unmount): the old disk goes. */
export function xenDropOldStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const k = keptNames(spec, cfg);
  return {
    step: "keep_data_done",
    description: `/data is on the new disk: remove the old disk ${k.keptPath}`,
    actions: [run(["lvremove", "-f", k.keptPath], "Remove the old disk", { alreadyDone: { when: missingLv, advice: "", note: `${k.keptPath} is gone already` } })],
  };
}

/** After a failed copy (and unmount): the new disk goes and the old one gets its name back, as before the reinstall. */
export function xenPutBackStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const k = keptNames(spec, cfg);
  return {
    step: "keep_data_put_back",
    description: `The copy failed: remove the new disk and give ${k.keptPath} its name ${k.lvPath} back`,
    actions: [
      run(["lvremove", "-f", k.lvPath], "Remove the new disk (nothing of the owner's is on it yet)", { alreadyDone: { when: missingLv, advice: "" } }),
      run(["lvrename", k.vg, k.keptLv, k.lv], "Give the old disk its name back"),
    ],
  };
}

/** Everything a reinstall with keepData runs, in order (the golden file; the driver runs the parts per pipeline step). */
export function xenReinstallKeepDataPlan(spec: DeploySpec, cfg: XenHostConfig): PlanStep[] {
  const provision = xenProvisionPlan(spec, cfg).steps;
  const step = (name: string) => provision.find((s) => s.step === name)!;
  return [
    xenHaltStep(spec, cfg),
    xenSetAsideStep(spec, cfg),
    step("storage"),
    step("unpack"),
    xenCopyDataStep(spec, cfg),
    xenCopyCleanupStep(spec, cfg),
    xenDropOldStep(spec, cfg),
    xenPutBackStep(spec, cfg),
    step("networking"),
    step("glue"),
    xenStartStep(spec, cfg),
  ];
}
