/**
 * Snapshots and resize of a Xen guest as command plans (xl, LVM), from
 * shared/reference/hypervisors.md section 1 and lvconvert(8)/lvextend(8). NOT run on a real
 * Xen host: tested against reviewed golden files and the host emulators in tests/emulators/.
 *
 * A snapshot is an LVM snapshot volume `<guest>-<tag>` of the guest's disk (xenSnapshotStep).
 * Reverting merges it back into the disk (`lvconvert --merge`, with the domain shut down so
 * the merge runs at once), which uses the snapshot up, so the same snapshot is taken again
 * right after: the owner can revert to it again. Caveat for review on a real host: a guest
 * whose disk is itself a copy-on-write snapshot of a golden volume (image source "clone") is
 * a snapshot, and classic LVM does not snapshot a snapshot; such guests need thin volumes.
 */
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { xenDomainConfig, xenHaltStep, xenNames, xenSnapshotStep, xenStartStep } from "./plan";

const missingLv = { when: /Failed to find logical volume/, advice: "" };

/** The owner's snapshot: the LVM snapshot volume `<guest>-<tag>` (the same command a backup's snapshot runs). */
export function xenTakeSnapshotStep(spec: DeploySpec, cfg: XenHostConfig, tag: string): PlanStep {
  const n = xenNames(spec, cfg);
  return { ...xenSnapshotStep(spec, cfg, tag), description: `Snapshot ${n.lvPath} as ${n.lv}-${tag}, to revert to` };
}

/** Merges the snapshot into the guest's disk and takes it again; the domain must be down (xenHaltStep first). */
export function xenRevertStep(spec: DeploySpec, cfg: XenHostConfig, tag: string): PlanStep {
  const snapshot = xenTakeSnapshotStep(spec, cfg, tag);
  const n = xenNames(spec, cfg);
  return {
    step: "revert",
    description: `Put ${n.lvPath} back to its snapshot ${n.lv}-${tag} and keep the snapshot`,
    actions: [
      run(["lvconvert", "--merge", `${n.vg}/${n.lv}-${tag}`], "Merge the snapshot back into the guest's disk (the domain is down, so it merges now)", {
        hint: "If lvconvert says the merge is deferred, the disk is still open: check that the domain is gone (xl list).",
        // A rerun after the merge and before the snapshot was taken again: the merge is done.
        alreadyDone: { ...missingLv, note: `snapshot ${n.lv}-${tag} was merged already` },
        timeoutMs: 60 * 60_000,
      }),
      ...snapshot.actions.map((a) => ({ ...a, description: "Take the snapshot again, so the owner can revert to it once more" })),
    ],
  };
}

export function xenDeleteSnapshotStep(spec: DeploySpec, cfg: XenHostConfig, tag: string): PlanStep {
  xenSnapshotStep(spec, cfg, tag); // checks the tag
  const n = xenNames(spec, cfg);
  return {
    step: "delete_snapshot",
    description: `Remove the snapshot volume ${n.lv}-${tag}`,
    actions: [run(["lvremove", "-f", `${n.vg}/${n.lv}-${tag}`], "Remove the snapshot volume", { alreadyDone: { ...missingLv, note: `snapshot ${n.lv}-${tag} is gone already` } })],
  };
}

/** Revert: shut down, merge and snapshot again, then start when the guest ran before. */
export function xenRevertPlan(spec: DeploySpec, cfg: XenHostConfig, tag: string, start: boolean): PlanStep[] {
  return [xenHaltStep(spec, cfg), xenRevertStep(spec, cfg, tag), ...(start ? [xenStartStep(spec, cfg)] : [])];
}

/**
 * Resize: shut down, grow the volume and its filesystem when the new size has a larger disk
 * (never shrink), rewrite the domain configuration with the new memory, vCPUs and cap, start.
 */
export function xenResizePlan(spec: DeploySpec, from: DeploySpec["flavor"], cfg: XenHostConfig): PlanStep[] {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  const grow = spec.flavor.diskGb > from.diskGb;
  return [
    xenHaltStep(spec, cfg),
    {
      step: "resize",
      description: `${from.vcpus} -> ${spec.flavor.vcpus} vCPUs, ${from.memoryMb} -> ${spec.flavor.memoryMb} MiB${grow ? `, disk ${from.diskGb} -> ${spec.flavor.diskGb} GiB` : ""}`,
      actions: [
        ...(grow
          ? [
              run(["lvextend", "-L", `${spec.flavor.diskGb}G`, n.lvPath], `Grow the guest's volume to ${spec.flavor.diskGb} GiB`, {
                alreadyDone: { when: /matches existing size|not larger than existing size/, advice: "" },
              }),
              run(["e2fsck", "-f", "-p", n.device], "Check the filesystem (resize2fs requires it)", { timeoutMs: 30 * 60_000 }),
              run(["resize2fs", n.device], `Grow the filesystem to the volume's ${spec.flavor.diskGb} GiB`, { timeoutMs: 30 * 60_000 }),
            ]
          : []),
        write(n.configFile, xenDomainConfig(spec, cfg), 0o644, "xl domain configuration with the new memory, vCPUs and CPU cap"),
      ],
    },
    xenStartStep(spec, cfg),
  ];
}
