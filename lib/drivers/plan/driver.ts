/**
 * What the command-plan drivers (Xen, zones) share: each pipeline step runs its part of the
 * driver's plan on the host's Transport, opened for the step and closed after it, with the
 * driver's notice that the plan was not run on a real host of its kind.
 */
import type { Duplex } from "node:stream";
import type { Transport } from "../transport/types";
import { StepError, type DeploySpec, type StepIo } from "../types";
import { runPlanStep, type RunnerOptions } from "./runner";
import type { Plan, PlanStep } from "./types";

/** Opens a transport to a host; the driver closes it when its step is done. */
export type ConnectHost = (host: DeploySpec["host"]) => Promise<Transport>;

export abstract class PlanDriver {
  constructor(
    protected readonly connect: ConnectHost,
    protected readonly options: RunnerOptions = {},
  ) {}

  /** The whole plan of a deployment and its teardown, step by step. */
  protected abstract planFor(spec: DeploySpec): Plan;
  /** Said in every step log: which real hosts the plan has not been run on. */
  protected abstract readonly notice: string;

  /** The host command that attaches to the guest's console (`xl console`, `zlogin -C`). */
  protected abstract consoleArgv(spec: DeploySpec): string[];

  /** The guest's console over the host's transport, on a terminal; the transport closes with it. */
  async openConsole(spec: DeploySpec): Promise<Duplex> {
    const t = await this.connect(spec.host);
    try {
      const stream = await t.openCommand(this.consoleArgv(spec));
      stream.once("close", () => void t.close().catch(() => {}));
      return stream;
    } catch (err) {
      await t.close().catch(() => {});
      throw new StepError(`the console of ${spec.hostname} on ${spec.host.name} could not be opened: ${(err as Error).message}`);
    }
  }

  protected async onHost<T>(host: DeploySpec["host"], fn: (t: Transport) => Promise<T>): Promise<T> {
    const transport = await this.connect(host);
    try {
      return await fn(transport);
    } finally {
      await transport.close().catch(() => {});
    }
  }

  protected runOne(spec: DeploySpec, io: StepIo, step: PlanStep): Promise<void> {
    return this.onHost(spec.host, (t) => runPlanStep(step, t, io, { notice: this.notice, ...this.options }));
  }

  private async runStep(spec: DeploySpec, io: StepIo, name: string): Promise<void> {
    const plan = this.planFor(spec);
    const step = plan.steps.find((s) => s.step === name);
    if (!step) throw new Error(`no ${name} step in the ${spec.host.kind} plan`);
    await this.runOne(spec, io, step);
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
}
