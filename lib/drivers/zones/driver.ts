/**
 * The Solaris 10 zones driver: zonecfg/zoneadm/zlogin on ZFS, over the host's Transport (SSH).
 * Each step runs its part of the command plan from ./plan.ts. NOT run on a real Solaris host:
 * the plans were written from the zones/ZFS reference and tested against emulators
 * (tests/emulators/).
 */
import { runPlanStep, type RunnerOptions } from "../plan/runner";
import type { Plan, PlanStep } from "../plan/types";
import { parseHostConfig } from "../plan/validate";
import type { Transport } from "../transport/types";
import { StepError, type DeploySpec, type GuestStatus, type HypervisorDriver, type MigrateIo, type MigrationResult, type StepIo } from "../types";
import { migrationAddress, type ConnectHost } from "../xen/driver";
import { zonesHostConfig, type ZonesHostConfig } from "./config";
import { zoneMovePlan } from "./move";
import { zoneBootStep, zoneHaltStep, zonesProvisionPlan, zonesTeardownPlan } from "./plan";

const NOTICE = "note: this Solaris command plan has not been run on a real Solaris host yet (it was tested against emulators)";

export class ZonesDriver implements HypervisorDriver {
  readonly kind = "zones" as const;
  /** No live migration of zones in Solaris 10: a move is detach, send, attach. */
  readonly capabilities = { liveMigration: false, coldMove: true, cpuCap: true, sparseRoot: true };

  constructor(
    private readonly connect: ConnectHost,
    private readonly options: RunnerOptions = {},
  ) {}

  static config(host: DeploySpec["host"]): ZonesHostConfig {
    return parseHostConfig(zonesHostConfig, host);
  }

  static plan(spec: DeploySpec): Plan {
    const cfg = ZonesDriver.config(spec.host);
    const provision = zonesProvisionPlan(spec, cfg);
    return { ...provision, steps: [...provision.steps, ...zonesTeardownPlan(spec, cfg).steps] };
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
    const step = ZonesDriver.plan(spec).steps.find((s) => s.step === name);
    if (!step) throw new Error(`no ${name} step in the zones plan`);
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

  start(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, zoneBootStep(spec)); }
  stop(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, zoneHaltStep(spec)); }

  async status(spec: DeploySpec): Promise<GuestStatus> {
    return this.onHost(spec.host, async (t) => {
      const r = await t.run(["zoneadm", "-z", spec.hostname, "list", "-p"]);
      if (r.code !== 0) return "missing";
      const state = r.stdout.trim().split(":")[2];
      return state === "running" ? "running" : "stopped";
    });
  }

  /** Cold move by detach, zfs send/receive and attach: the zone is down for the whole transfer. */
  async migrate(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    if (target.kind !== "zones") throw new StepError(`${target.name} is a ${target.kind} host; a zone moves only to another Solaris host`);
    if (target.id === spec.host.id) throw new StepError(`${spec.hostname} already runs on ${target.name}`);
    const targetCfg = ZonesDriver.config(target);
    const snapshot = `portal-move-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "").toLowerCase()}`;
    const plan = zoneMovePlan(spec, ZonesDriver.config(spec.host), target, targetCfg, migrationAddress(target, targetCfg.migrationAddress), snapshot);
    const started = Date.now();
    await io.progress(5, `checking ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.preflight);
    await io.progress(10, `halting and detaching ${spec.hostname}; it is down until it boots on ${target.name}`);
    const down = Date.now();
    await this.runOne(spec, io, plan.detach);
    await io.progress(70, `attaching ${spec.hostname} on ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.attach);
    const downtimeMs = Date.now() - down;
    await io.progress(90, `removing the detached copy from ${spec.host.name}`);
    await this.runOne(spec, io, plan.cleanup);
    await io.progress(100, `running on ${target.name}`);
    return { mode: "cold", totalMs: Date.now() - started, downtimeMs, transferredBytes: null };
  }
}
