/**
 * Live migration of a Xen guest between two hosts (`xl migrate`), as a command plan: checks and
 * configuration on the target, the migration on the source, a check on the target, cleanup on
 * the source. NOT run on real Xen hosts: tested against golden files and emulators.
 */
import { assertSafeSpec } from "../plan/validate";
import { run, write, type PlanStep } from "../plan/types";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { lvsArgs, noDomain, xenDomainConfig, xenNames } from "./plan";

/**
 * Live migration with `xl migrate`: the disk must already be reachable under the same path on
 * the target (shared SAN/iSCSI/DRBD volume group), the domain keeps its config and MACs, so the
 * environment keeps its addresses.
 */
export function xenMigrationPlan(spec: DeploySpec, cfg: XenHostConfig, target: DeploySpec["host"], targetCfg: XenHostConfig, targetAddress: string): { prepare: PlanStep; migrate: PlanStep; verify: PlanStep; cleanup: PlanStep } {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  const t = xenNames(spec, targetCfg);
  if (t.device !== n.device) throw new Error(`the guest's disk is ${n.device} on ${spec.host.name} but would be ${t.device} on ${target.name}: live migration needs the same path on both hosts`);
  return {
    prepare: {
      step: "migrate-prepare",
      description: `On ${target.name}: check the shared volume ${n.lvPath} is visible and write the domain configuration`,
      actions: [
        run(lvsArgs("lv_name,vg_name,lv_size", n.lvPath), "The guest's disk on shared storage, seen from the target", {
          hint: `${target.name} does not see ${n.lvPath}: live migration needs the volume group on shared storage (SAN, iSCSI, DRBD)`,
        }),
        run(["xl", "list", spec.hostname], "No domain of that name on the target yet", {
          alreadyDone: { ...noDomain, note: `no domain named ${spec.hostname} on ${target.name} yet: good` },
          expect: { stdout: /^(?![\s\S])/, problem: `${target.name} already runs a domain named ${spec.hostname}` },
        }),
        write(t.configFile, xenDomainConfig(spec, targetCfg), 0o644, "Domain configuration on the target, for later restarts there"),
      ],
    },
    migrate: {
      step: "migrate",
      description: `Live-migrate ${spec.hostname} to ${target.name} (${targetAddress}); it keeps running and keeps its MACs and addresses`,
      actions: [run(["xl", "migrate", spec.hostname, targetAddress], "xl sends memory while the guest runs, then switches over", { timeoutMs: 30 * 60_000 })],
    },
    verify: {
      step: "migrate-verify",
      description: `On ${target.name}: the domain runs`,
      actions: [
        run(["xl", "list", spec.hostname], `Domain ${spec.hostname} listed on the target`, {
          until: { ready: new RegExp(`^${spec.hostname}\\s+\\d+`, "m"), what: `domain ${spec.hostname} on ${target.name}`, attempts: 30, intervalMs: 1000 },
        }),
      ],
    },
    cleanup: {
      step: "migrate-cleanup",
      description: `On ${spec.host.name}: remove the old domain configuration (the volume is shared and stays)`,
      actions: [run(["rm", "-f", n.configFile], "The domain now lives on the target")],
    },
  };
}


/**
 * A cold move of a stopped Xen guest: nothing runs, so nothing is sent. Its disk is on shared
 * storage under the same path; the move checks that the domain is really down on the source and
 * that the target sees the volume, writes the domain configuration on the target and removes it
 * on the source. The guest stays stopped: a start boots it on the target (`xl create` of that
 * configuration). NOT run on real Xen hosts: tested against golden files and emulators.
 */
export function xenStoppedMovePlan(spec: DeploySpec, cfg: XenHostConfig, target: DeploySpec["host"], targetCfg: XenHostConfig): { check: PlanStep; prepare: PlanStep; cleanup: PlanStep } {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  const t = xenNames(spec, targetCfg);
  if (t.device !== n.device) throw new Error(`the guest's disk is ${n.device} on ${spec.host.name} but would be ${t.device} on ${target.name}: a move needs the same path on both hosts`);
  // What the live migration's prepare step does on the target is the same here.
  const { prepare } = xenMigrationPlan(spec, cfg, target, targetCfg, "unused.invalid");
  return {
    check: {
      step: "move-check",
      description: `On ${spec.host.name}: ${spec.hostname} is stopped (no domain), its volume is there`,
      actions: [
        run(["xl", "list", spec.hostname], "No running domain of that name on the source", {
          alreadyDone: { ...noDomain, note: `no domain named ${spec.hostname} runs on ${spec.host.name}: good` },
          expect: { stdout: /^(?![\s\S])/, problem: `${spec.hostname} runs on ${spec.host.name}; a running guest migrates live instead` },
        }),
        run(lvsArgs("lv_name,vg_name,lv_size", n.lvPath), "The guest's disk on the source"),
      ],
    },
    prepare: { ...prepare, step: "move-prepare" },
    cleanup: {
      step: "move-cleanup",
      description: `On ${spec.host.name}: remove the domain configuration (the volume is shared and stays)`,
      actions: [run(["rm", "-f", n.configFile], "The domain now lives on the target")],
    },
  };
}
