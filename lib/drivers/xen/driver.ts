/**
 * The Xen driver: xl toolstack, guest disks on LVM, over the host's Transport (SSH). Each step
 * runs its part of the command plan from ./plan.ts. NOT run on a real Xen host: the plans were
 * written from the xl/LVM reference and tested against emulators (tests/emulators/).
 */
import { runPlanStep, type RunnerOptions } from "../plan/runner";
import type { Plan, PlanStep } from "../plan/types";
import { HOST_ADDRESS, parseHostConfig } from "../plan/validate";
import type { Transport } from "../transport/types";
import { StepError, type DeploySpec, type GuestStatus, type HypervisorDriver, type MigrateIo, type MigrationResult, type StepIo } from "../types";
import { xenHostConfig, type XenHostConfig } from "./config";
import { xenMigrationPlan } from "./migration";
import { xenHaltStep, xenNames, xenProvisionPlan, xenSnapshotStep, xenStartStep, xenTeardownPlan } from "./plan";

/** Opens a transport to a host; the driver closes it when its step is done. */
export type ConnectHost = (host: DeploySpec["host"]) => Promise<Transport>;

/** The host part of an address like "portal@xen-2.example.org:22". */
export function hostPart(address: string): string {
  const noUser = address.includes("@") ? address.slice(address.lastIndexOf("@") + 1) : address;
  return noUser.replace(/^\[|\]$/g, "").replace(/:\d+$/, "");
}

export function migrationAddress(host: DeploySpec["host"], configured: string | undefined): string {
  const address = configured ?? hostPart(host.address);
  if (!HOST_ADDRESS.test(address)) throw new StepError(`host ${host.name} has no usable address for host-to-host transfers (${JSON.stringify(address.slice(0, 60))})`);
  return address;
}

const NOTICE = "note: this Xen command plan has not been run on a real Xen host yet (it was tested against emulators)";

export class XenDriver implements HypervisorDriver {
  readonly kind = "xen" as const;
  readonly capabilities = { liveMigration: true, coldMove: false, cpuCap: true, sparseRoot: false };

  constructor(
    private readonly connect: ConnectHost,
    private readonly options: RunnerOptions = {},
  ) {}

  static config(host: DeploySpec["host"]): XenHostConfig {
    return parseHostConfig(xenHostConfig, host);
  }

  /** What a deployment runs, step by step, and what teardown runs (the dry run shows both). */
  static plan(spec: DeploySpec): Plan {
    const cfg = XenDriver.config(spec.host);
    const provision = xenProvisionPlan(spec, cfg);
    return { ...provision, steps: [...provision.steps, ...xenTeardownPlan(spec, cfg).steps] };
  }

  private async onHost<T>(host: DeploySpec["host"], fn: (t: Transport) => Promise<T>): Promise<T> {
    const transport = await this.connect(host);
    try {
      return await fn(transport);
    } finally {
      await transport.close().catch(() => {});
    }
  }

  private async runStep(spec: DeploySpec, io: StepIo, name: string) {
    const step = XenDriver.plan(spec).steps.find((s) => s.step === name);
    if (!step) throw new Error(`no ${name} step in the Xen plan`);
    await this.onHost(spec.host, (t) => runPlanStep(step, t, io, { notice: NOTICE, ...this.options }));
  }

  private runOne(spec: DeploySpec, io: StepIo, step: PlanStep) {
    return this.onHost(spec.host, (t) => runPlanStep(step, t, io, { notice: NOTICE, ...this.options }));
  }

  resolveImage(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "resolve"); }
  packImage(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "pack"); }
  createStorage(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "storage"); }
  unpack(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "unpack"); }
  configureNetwork(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "networking"); }
  glue(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "glue"); }
  boot(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "boot"); }
  waitReady(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "wait_ready"); }
  halt(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "halt"); }
  destroy(spec: DeploySpec, io: StepIo) { return this.runStep(spec, io, "destroy"); }

  start(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, xenStartStep(spec, XenDriver.config(spec.host))); }
  stop(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, xenHaltStep(spec, XenDriver.config(spec.host))); }

  /** An LVM snapshot of the guest's disk for a backup, named <guest>-<label>. */
  snapshot(spec: DeploySpec, label: string, io: StepIo) { return this.runOne(spec, io, xenSnapshotStep(spec, XenDriver.config(spec.host), label)); }

  async status(spec: DeploySpec): Promise<GuestStatus> {
    const n = xenNames(spec, XenDriver.config(spec.host));
    return this.onHost(spec.host, async (t) => {
      if ((await t.run(["xl", "list", spec.hostname])).code === 0) return "running";
      return (await t.run(["lvs", "--noheadings", "-o", "lv_name", n.lvPath])).code === 0 ? "stopped" : "missing";
    });
  }

  /** Live migration (`xl migrate`); on failure xl leaves the guest running on the source. */
  async migrate(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    if (target.kind !== "xen") throw new StepError(`${target.name} is a ${target.kind} host; a Xen guest moves only to another Xen host`);
    if (target.id === spec.host.id) throw new StepError(`${spec.hostname} already runs on ${target.name}`);
    const targetCfg = XenDriver.config(target);
    const plan = xenMigrationPlan(spec, XenDriver.config(spec.host), target, targetCfg, migrationAddress(target, targetCfg.migrationAddress));
    const started = Date.now();
    await io.progress(5, `checking ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.prepare);
    await io.progress(20, `migrating ${spec.hostname} to ${target.name} while it runs`);
    await this.runOne(spec, io, plan.migrate);
    await io.progress(90, `checking ${spec.hostname} on ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.verify);
    await this.runOne(spec, io, plan.cleanup);
    await io.progress(100, `running on ${target.name}`);
    // xl does not report the downtime or the bytes sent in a form worth parsing.
    return { mode: "live", totalMs: Date.now() - started, downtimeMs: null, transferredBytes: null };
  }
}
