/**
 * What the command-plan drivers (Xen, zones) share: each pipeline step runs its part of the
 * driver's plan on the host's Transport, opened for the step and closed after it, with the
 * driver's notice that the plan was not run on a real host of its kind.
 */
import type { Duplex } from "node:stream";
import { TransportError, type Transport } from "../transport/types";
import { StepError, type DeploySpec, type DiskCopy, type DiskSink, type GuestHook, type GuestHookResult, type StepIo, type StoredDisk } from "../types";
import { stagedFileCleanup } from "./backup-file";
import { runPlanStep, type RunnerOptions } from "./runner";
import type { Plan, PlanStep } from "./types";

/** A label for a backup's snapshot and transfer copy: backup-<UTC time>-<random>. */
export function backupLabel(): string {
  return `backup-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${Math.random().toString(36).slice(2, 6)}`;
}

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

  /** A recipe's hook run in the running guest (`xl console`, `zlogin`): ../guest-hooks.ts. */
  abstract runGuestHook(spec: DeploySpec, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo): Promise<GuestHookResult>;

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

  /** Runs a step that concerns the host itself (network policy), not one guest. */
  protected runOnHost(host: DeploySpec["host"], io: StepIo, step: PlanStep): Promise<void> {
    return this.onHost(host, (t) => runPlanStep(step, t, io, { notice: this.notice, ...this.options }));
  }

  protected runOne(spec: DeploySpec, io: StepIo, step: PlanStep): Promise<void> {
    return this.onHost(spec.host, (t) => runPlanStep(step, t, io, { notice: this.notice, ...this.options }));
  }

  /**
   * Runs a backup plan that leaves a compressed copy at `file` on the host and logs its sha256
   * (sha256sum, digest), streams the file into `sink` and checks that both checksums agree;
   * its `backup-cleanup` step (the snapshot) and the host's copy are removed whatever happens.
   */
  protected async exportPlanned(spec: DeploySpec, io: StepIo, sink: DiskSink, plan: { steps: PlanStep[]; file: string; format: string }): Promise<StoredDisk> {
    let hostSha: string | null = null;
    const watching: StepIo = {
      ...io,
      log: async (line) => {
        hostSha = /^\s+([0-9a-f]{64})(?:\s|$)/.exec(line)?.[1] ?? hostSha;
        await io.log(line);
      },
    };
    // The snapshot goes whatever happens: one left behind fills up as the guest writes.
    const cleanup = plan.steps.filter((st) => st.step === "backup-cleanup");
    try {
      try {
        for (const step of plan.steps.filter((st) => !cleanup.includes(st))) await this.runOne(spec, watching, step);
      } finally {
        for (const step of cleanup) await this.runOne(spec, io, step).catch(async (e: Error) => io.log(`the backup's snapshot could not be removed: ${e.message}`));
      }
      if (!hostSha) throw new StepError(`the host did not report the checksum of ${plan.file}`);
      const stored = await this.onHost(spec.host, async (t) => sink({ format: plan.format, stream: await t.readStream(plan.file), compressed: true })).catch((e: Error) => {
        throw e instanceof TransportError ? new StepError(`the copy could not be streamed from ${spec.host.name}: ${e.message}`) : e;
      });
      if (stored.sha256 !== hostSha) throw new StepError(`the copy arrived damaged: sha256 ${stored.sha256.slice(0, 12)}… in the backup store, ${String(hostSha).slice(0, 12)}… on ${spec.host.name}`);
      await io.log(`streamed ${(stored.sizeBytes / 1024 ** 2).toFixed(1)} MiB into the backup store; sha256 ${stored.sha256.slice(0, 12)}… matches the host's`);
      return stored;
    } finally {
      await this.runOne(spec, { ...io, log: async () => {} }, stagedFileCleanup(plan.file)).catch(() => {});
    }
  }

  /**
   * exportPlanned for a guest that may be running: a recipe's quiesce hook (a database:
   * CHECKPOINT) runs right before the snapshot, which is atomic by itself, and thaws after.
   */
  protected async exportQuiesced(spec: DeploySpec, io: StepIo, sink: DiskSink, plan: { steps: PlanStep[]; file: string; format: string }, running: boolean): Promise<StoredDisk> {
    const frozen = running ? await this.quiesce(spec, "freeze", io) : false;
    try {
      return await this.exportPlanned(spec, io, sink, plan);
    } finally {
      if (frozen) await this.quiesce(spec, "thaw", io);
    }
  }

  /** The recipe's quiesce hook, when the guest has one; true when it ran. Never fails the backup: the snapshot is crash-consistent without it. */
  private async quiesce(spec: DeploySpec, what: "freeze" | "thaw", io: StepIo): Promise<boolean> {
    const r = await this.runGuestHook(spec, "quiesce", { arg: what }, { ...io, log: async () => {} }).catch((e: Error) => ({ code: -1, output: e.message }));
    if (r.code === 127) return false;
    await io.log(`quiesce ${what}: ${r.code === 0 ? "done" : `failed (${r.code === -1 ? r.output : `exit ${r.code}`})`}${r.code === 0 && r.output ? `: ${r.output.split("\n").at(-1)}` : ""}`);
    return r.code === 0;
  }

  /** Streams a stored copy (compressed, as stored) up to `file` on the host for a restore or a verification. */
  protected async uploadCopy(spec: DeploySpec, disk: DiskCopy, file: string, format: string, io: StepIo): Promise<void> {
    if (disk.format !== format) throw new StepError(`a ${disk.format} copy cannot be put on a ${spec.host.kind} host (it takes ${format})`);
    const bytes = await this.onHost(spec.host, (t) => t.writeStream(file, disk.open(), { mode: 0o600, signal: io.signal })).catch((e: Error) => {
      throw e instanceof StepError ? e : new StepError(`the backup could not be copied to ${spec.host.name}: ${e.message}`);
    });
    await io.log(`streamed the backup to ${spec.host.name}:${file} (${(bytes / 1024 ** 2).toFixed(1)} MiB compressed)`);
  }

  /** Uploads the copy and runs the restore plan; the transfer copy is removed also when a step failed. */
  protected async importPlanned(spec: DeploySpec, disk: DiskCopy, io: StepIo, plan: { steps: PlanStep[]; file: string; format: string }): Promise<void> {
    await this.uploadCopy(spec, disk, plan.file, plan.format, io);
    try {
      for (const step of plan.steps) await this.runOne(spec, io, step);
    } finally {
      await this.runOne(spec, { ...io, log: async () => {} }, stagedFileCleanup(plan.file)).catch(() => {});
    }
  }

  /**
   * Uploads the copy, boots the throwaway guest, reads the marker with `readMarker`, and runs
   * `cleanup` whatever happened (a failed cleanup is logged, never hides the first failure).
   */
  protected async verifyPlanned(spec: DeploySpec, disk: DiskCopy, io: StepIo, plan: { boot: PlanStep[]; cleanup: PlanStep; file: string; format: string; readMarker: () => Promise<string | null> }): Promise<{ marker: string | null }> {
    try {
      await this.uploadCopy(spec, disk, plan.file, plan.format, io);
      for (const step of plan.boot) await this.runOne(spec, io, step);
      const marker = await plan.readMarker();
      await io.log(marker ? `read back ${marker}` : "the booted copy has no backup marker");
      return { marker };
    } finally {
      await this.runOne(spec, io, plan.cleanup).catch(async (e: Error) => io.log(`cleanup of the throwaway guest failed: ${e.message}`));
    }
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
