/**
 * The Solaris 10 zones driver: zonecfg/zoneadm/zlogin on ZFS, over the host's Transport (SSH).
 * Each step runs its part of the command plan from ./plan.ts. NOT run on a real Solaris host:
 * the plans were written from the zones/ZFS reference and tested against emulators
 * (tests/emulators/).
 */
import { stagedBackupFile, verifyGuest } from "../plan/backup-file";
import { backupLabel, PlanDriver } from "../plan/driver";
import type { Plan } from "../plan/types";
import { parseHostConfig } from "../plan/validate";
import { StepError, BACKUP_MARKER_FILE, GUEST_HOOK_INPUT, type GuestHook, type GuestHookResult, type DeploySpec, type DiskCopy, type DiskSink, type GuestStatus, type HypervisorDriver, type MigrateIo, type MigrationResult, type NetworkPolicy, type ServiceIpRef, type SnapshotRef, type SnapshotTaken, type StepIo } from "../types";
import { migrationAddress } from "../xen/driver";
import { zonesHostConfig, type ZonesHostConfig } from "./config";
import { zoneMovePlan } from "./move";
import { zoneBackupPlan, zoneHookArgv, zoneMarkerStep, zoneRestorePlan, zoneVerifyPlan } from "./backup";
import { zoneDeleteSnapshotStep, zoneResizePlan, zoneRevertPlan, zoneSnapshotStep } from "./day2";
import { zoneBootStep, zoneHaltStep, zonesProvisionPlan, zonesTeardownPlan } from "./plan";
import { zoneGuestUsage, zonesHostUsage } from "./usage";
import { zoneNetworkPolicyStep, zoneServiceIpAttachStep, zoneServiceIpDetachStep } from "./service-ips";

/** What a zone backup holds: a full `zfs send` stream of the zonepath, gzip-compressed on the host. */
const DISK_FORMAT = "zfs-stream";

const NOTICE = "note: this Solaris command plan has not been run on a real Solaris host yet (it was tested against emulators)";

export class ZonesDriver extends PlanDriver implements HypervisorDriver {
  readonly kind = "zones" as const;
  /** No live migration of zones in Solaris 10: a move is detach, send, attach. */
  readonly capabilities = { liveMigration: false, coldMove: true, cpuCap: true, sparseRoot: true, snapshots: true, resize: true, keepData: true };

  static config(host: DeploySpec["host"]): ZonesHostConfig {
    return parseHostConfig(zonesHostConfig, host);
  }

  static plan(spec: DeploySpec): Plan {
    const cfg = ZonesDriver.config(spec.host);
    const provision = zonesProvisionPlan(spec, cfg);
    return { ...provision, steps: [...provision.steps, ...zonesTeardownPlan(spec, cfg).steps] };
  }

  protected planFor(spec: DeploySpec): Plan {
    return ZonesDriver.plan(spec);
  }

  protected readonly notice = NOTICE;

  // `zlogin -C` attaches to the zone's console (its login prompt); ending the SSH channel
  // detaches as `~.` would, the zone keeps running.
  protected consoleArgv(spec: DeploySpec) { return ["zlogin", "-C", spec.hostname]; }

  start(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, zoneBootStep(spec)); }

  /** Service IPs (./service-ips.ts): a logical interface of the global zone's NIC, and a net in the zone's configuration. */
  attachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo) { return this.runOne(spec, io, zoneServiceIpAttachStep(spec, ZonesDriver.config(spec.host), sip)); }
  detachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo) { return this.runOne(spec, io, zoneServiceIpDetachStep(spec, ZonesDriver.config(spec.host), sip)); }
  /** Networks kept apart in the global zone (IP Filter). */
  applyNetworkPolicy(host: DeploySpec["host"], policy: NetworkPolicy, io: StepIo) { return this.runOnHost(host, io, zoneNetworkPolicyStep(ZonesDriver.config(host), policy)); }
  stop(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, zoneHaltStep(spec)); }

  /** A ZFS snapshot of the zonepath dataset (./day2.ts); zones have no memory snapshot. */
  async takeSnapshot(spec: DeploySpec, tag: string, io: StepIo): Promise<SnapshotTaken> {
    await this.runOne(spec, io, zoneSnapshotStep(spec, ZonesDriver.config(spec.host), tag));
    return { withMemory: false, sizeBytes: null };
  }

  /** Halt, zfs rollback, boot again if it ran; the zone's configuration (name, addresses) is not touched. */
  async revertSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<{ running: boolean }> {
    const running = (await this.status(spec)) === "running";
    for (const step of zoneRevertPlan(spec, ZonesDriver.config(spec.host), snap.tag, running)) await this.runOne(spec, io, step);
    return { running };
  }

  deleteSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo) { return this.runOne(spec, io, zoneDeleteSnapshotStep(spec, ZonesDriver.config(spec.host), snap.tag)); }

  async resize(spec: DeploySpec, from: DeploySpec["flavor"], io: StepIo): Promise<void> {
    for (const step of zoneResizePlan(spec, from, ZonesDriver.config(spec.host))) await this.runOne(spec, io, step);
  }

  usage(spec: DeploySpec) { return this.onHost(spec.host, (t) => zoneGuestUsage(t, spec, ZonesDriver.config(spec.host))); }
  hostUsage(host: DeploySpec["host"]) { return this.onHost(host, (t) => zonesHostUsage(t, host, ZonesDriver.config(host))); }

  async status(spec: DeploySpec): Promise<GuestStatus> {
    return this.onHost(spec.host, async (t) => {
      const r = await t.run(["zoneadm", "-z", spec.hostname, "list", "-p"]);
      if (r.code !== 0) return "missing";
      const state = r.stdout.trim().split(":")[2];
      return state === "running" ? "running" : "stopped";
    });
  }

  /** Cold move by detach, zfs send/receive and attach: the zone is down for the whole transfer. */
  migrate(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    return this.move(spec, target, io, true);
  }

  /** A halted zone moves the same way and stays halted (installed) on the target. */
  async moveStopped(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    const result = await this.move(spec, target, io, false);
    return { ...result, downtimeMs: null };
  }

  private async move(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo, boot: boolean): Promise<MigrationResult> {
    if (target.kind !== "zones") throw new StepError(`${target.name} is a ${target.kind} host; a zone moves only to another Solaris host`);
    if (target.id === spec.host.id) throw new StepError(`${spec.hostname} already runs on ${target.name}`);
    const targetCfg = ZonesDriver.config(target);
    const snapshot = `portal-move-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "").toLowerCase()}`;
    const plan = zoneMovePlan(spec, ZonesDriver.config(spec.host), target, targetCfg, migrationAddress(target, targetCfg.migrationAddress), snapshot, { boot });
    const started = Date.now();
    await io.progress(5, `checking ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.preflight);
    await io.progress(10, boot ? `halting and detaching ${spec.hostname}; it is down until it boots on ${target.name}` : `detaching the halted zone ${spec.hostname}`);
    const down = Date.now();
    await this.runOne(spec, io, plan.detach);
    await io.progress(70, `attaching ${spec.hostname} on ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.attach);
    const downtimeMs = Date.now() - down;
    await io.progress(90, `removing the detached copy from ${spec.host.name}`);
    await this.runOne(spec, io, plan.cleanup);
    await io.progress(100, boot ? `running on ${target.name}` : `on ${target.name}, halted`);
    return { mode: "cold", totalMs: Date.now() - started, downtimeMs, transferredBytes: null };
  }

  /**
   * Backup: the marker written in the running zone (zlogin), a ZFS snapshot of the zonepath,
   * `zfs send | gzip` to the host's stage directory with its sha256, streamed into `sink` and
   * compared (./backup.ts).
   */
  async exportDisk(spec: DeploySpec, io: StepIo, sink: DiskSink, opts: { marker?: string } = {}) {
    const cfg = ZonesDriver.config(spec.host);
    let marker = false;
    if (opts.marker && (await this.status(spec)) === "running") {
      marker = await this.runOne(spec, io, zoneMarkerStep(spec, opts.marker)).then(
        () => true,
        async (e: Error) => {
          if (!(e instanceof StepError)) throw e;
          await io.log(`no marker written (${e.message}); the backup cannot be proven by its marker`);
          return false;
        },
      );
    } else if (opts.marker) await io.log(`${spec.hostname} is not running: no marker written; the backup cannot be proven by its marker`);
    const file = stagedBackupFile(cfg.stageDir, backupLabel());
    const stored = await this.exportQuiesced(spec, io, sink, { steps: zoneBackupPlan(spec, cfg, file), file, format: DISK_FORMAT }, marker || (await this.status(spec)) === "running");
    return { ...stored, marker };
  }

  /** A recipe's hook in the running zone through zlogin; its input line on standard input (./backup.ts zoneHookArgv). */
  runGuestHook(spec: DeploySpec, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo): Promise<GuestHookResult> {
    if (opts.input !== undefined && !GUEST_HOOK_INPUT.test(opts.input)) throw new StepError("a guest hook's input has characters that are not allowed");
    const argv = zoneHookArgv(spec, hook, opts.arg);
    return this.onHost(spec.host, async (t) => {
      const r = await t.run(argv, { stdin: opts.input !== undefined ? `${opts.input}\n` : "", timeoutMs: 120_000, signal: io.signal });
      const output = `${r.stdout}${r.stderr}`.trim();
      // zlogin says "not found" (exit 1 on Solaris 10) when the zone's shell finds no such program.
      const code = r.code !== 0 && /not found|No such file/.test(output) ? 127 : r.code;
      await io.log(`${hook}${opts.arg ? ` ${opts.arg}` : ""} in ${spec.hostname}: ${code === 127 ? "the zone has no such hook" : `exit ${code}`}${output ? ` (${output.split("\n").slice(-2).join(" | ").slice(0, 300)})` : ""}`);
      return { code, output };
    });
  }

  /** In-place restore: halt, `zfs receive -F` over the zonepath's dataset, boot with its own configuration (same addresses). */
  importDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo) {
    const cfg = ZonesDriver.config(spec.host);
    const file = stagedBackupFile(cfg.stageDir, `restore-${backupLabel().slice(7)}`);
    return this.importPlanned(spec, disk, io, { steps: zoneRestorePlan(spec, cfg, file), file, format: DISK_FORMAT });
  }

  /** Proven restore: zone verify-<probe> from a received copy, no net; ready when its SSH service is online; the marker read with zlogin. */
  verifyDisk(spec: DeploySpec, disk: DiskCopy, probe: string, io: StepIo) {
    const cfg = ZonesDriver.config(spec.host);
    const file = stagedBackupFile(cfg.stageDir, `verify-${probe}`);
    const guest = verifyGuest(spec, probe);
    return this.verifyPlanned(spec, disk, io, {
      ...zoneVerifyPlan(spec, cfg, probe, file),
      file,
      format: DISK_FORMAT,
      readMarker: () =>
        this.onHost(spec.host, async (t) => {
          const r = await t.run(["zlogin", guest.hostname, "cat", BACKUP_MARKER_FILE]);
          const line = r.code === 0 ? r.stdout.trim() : "";
          return line.startsWith("portal-backup ") ? line : null;
        }),
    });
  }
}
