/**
 * The Xen driver: xl toolstack, guest disks on LVM, over the host's Transport (SSH). Each step
 * runs its part of the command plan from ./plan.ts. The plans were written from the xl/LVM
 * reference and are tested against emulators (tests/emulators/); deployment, stop/start and
 * destroy also on a real Xen 4.17 host (a Debian dom0 under QEMU, PV guests:
 * tests/integration/xen-real.test.ts). Migration, snapshots, resize and backups have NOT been
 * run on a real Xen host, nor has a reinstall that keeps /data (./reinstall.ts).
 */
import { readMarkerOnConsole, writeMarkerOnConsole } from "../console-marker";
import { runHookOnConsole } from "../guest-hooks";
import { stagedBackupFile, verifyGuest } from "../plan/backup-file";
import { backupLabel, PlanDriver } from "../plan/driver";
import type { Plan } from "../plan/types";
import { HOST_ADDRESS, parseHostConfig } from "../plan/validate";
import { StepError, type GuestHook, type GuestHookResult, type DeploySpec, type DiskCopy, type DiskSink, type GuestStatus, type HypervisorDriver, type MigrateIo, type MigrationResult, type NetworkPolicy, type ServiceIpRef, type SnapshotRef, type SnapshotTaken, type StepIo } from "../types";
import { xenHostConfig, type XenHostConfig } from "./config";
import { xenMigrationPlan, xenStoppedMovePlan } from "./migration";
import { xenBackupPlan, xenRestorePlan, xenVerifyPlan } from "./backup";
import { xenDeleteSnapshotStep, xenResizePlan, xenRevertPlan, xenTakeSnapshotStep } from "./day2";
import { xenHaltStep, xenNames, xenProvisionPlan, xenSnapshotStep, xenStartStep, xenTeardownPlan } from "./plan";
import { keptNames, xenCopyCleanupStep, xenCopyDataStep, xenDropOldStep, xenPutBackStep, xenSetAsideStep } from "./reinstall";
import { xenGuestUsage, xenHostUsage } from "./usage";
import { xenNetworkPolicyStep, xenServiceIpAttachStep, xenServiceIpDetachStep, xenServiceIpOfflineStep, xenServiceIpPersistStep } from "./service-ips";

export type { ConnectHost } from "../plan/driver";

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

/** What a Xen backup holds: the guest's LV as raw blocks, gzip-compressed on the host. */
const DISK_FORMAT = "xen-lv";

const NOTICE = "note: this Xen command plan's deployment, stop/start and destroy were run on a real Xen 4.17 host; migration, snapshots, resize, backups and a reinstall keeping /data only against emulators";

export class XenDriver extends PlanDriver implements HypervisorDriver {
  readonly kind = "xen" as const;
  readonly capabilities = { liveMigration: true, coldMove: false, cpuCap: true, sparseRoot: false, snapshots: true, resize: true, keepData: true };

  static config(host: DeploySpec["host"]): XenHostConfig {
    return parseHostConfig(xenHostConfig, host);
  }

  /** What a deployment runs, step by step, and what teardown runs (the dry run shows both). */
  static plan(spec: DeploySpec): Plan {
    const cfg = XenDriver.config(spec.host);
    const provision = xenProvisionPlan(spec, cfg);
    return { ...provision, steps: [...provision.steps, ...xenTeardownPlan(spec, cfg).steps] };
  }

  protected planFor(spec: DeploySpec): Plan {
    return XenDriver.plan(spec);
  }

  protected readonly notice = NOTICE;

  // `xl console` attaches to the domain's first console (its serial/PV console, where the
  // guest runs a getty); ending the SSH channel detaches, the guest keeps running.
  protected consoleArgv(spec: DeploySpec) { return ["xl", "console", spec.hostname]; }

  start(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, xenStartStep(spec, XenDriver.config(spec.host))); }
  stop(spec: DeploySpec, io: StepIo) { return this.runOne(spec, io, xenHaltStep(spec, XenDriver.config(spec.host))); }

  /** An LVM snapshot of the guest's disk for a backup, named <guest>-<label>. */
  snapshot(spec: DeploySpec, label: string, io: StepIo) { return this.runOne(spec, io, xenSnapshotStep(spec, XenDriver.config(spec.host), label)); }

  /** The owner's snapshot: an LVM snapshot volume named after its tag (disk only: xl has no memory snapshot that leaves the guest running). */
  async takeSnapshot(spec: DeploySpec, tag: string, io: StepIo): Promise<SnapshotTaken> {
    await this.runOne(spec, io, xenTakeSnapshotStep(spec, XenDriver.config(spec.host), tag));
    return { withMemory: false, sizeBytes: null };
  }

  /** Shut down, merge the snapshot back (./day2.ts), start again if it ran; the domain config keeps name and MACs. */
  async revertSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<{ running: boolean }> {
    const running = (await this.status(spec)) === "running";
    for (const step of xenRevertPlan(spec, XenDriver.config(spec.host), snap.tag, running)) await this.runOne(spec, io, step);
    return { running };
  }

  deleteSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo) { return this.runOne(spec, io, xenDeleteSnapshotStep(spec, XenDriver.config(spec.host), snap.tag)); }

  async resize(spec: DeploySpec, from: DeploySpec["flavor"], io: StepIo): Promise<void> {
    for (const step of xenResizePlan(spec, from, XenDriver.config(spec.host))) await this.runOne(spec, io, step);
  }

  /** A rebuild keeping /data sets the guest's volume aside instead of removing it (./reinstall.ts). */
  override destroy(spec: DeploySpec, io: StepIo) {
    return spec.keepData ? this.runOne(spec, io, xenSetAsideStep(spec, XenDriver.config(spec.host))) : super.destroy(spec, io);
  }

  /**
   * With keepData: the new root is built as a delivery builds it, then /data is copied onto it
   * from the volume set aside, which is removed only after the copy; a failed copy puts the
   * old volume back under its name (./reinstall.ts). A retry after such a failure sets it aside
   * and builds the new root again.
   */
  override async unpack(spec: DeploySpec, io: StepIo) {
    if (!spec.keepData) return super.unpack(spec, io);
    const cfg = XenDriver.config(spec.host);
    const k = keptNames(spec, cfg);
    const setAside = await this.onHost(spec.host, async (t) => (await t.run(["lvs", "--noheadings", "-o", "lv_name", k.keptPath])).code === 0);
    if (!setAside) {
      await io.log(`${k.keptPath} is not there (an earlier copy of /data failed and was put back): setting the disk aside and building the new one again`);
      await this.runOne(spec, io, xenSetAsideStep(spec, cfg));
      await super.createStorage(spec, io);
    }
    await super.unpack(spec, io);
    let copyError: Error | null = null;
    try {
      await this.runOne(spec, io, xenCopyDataStep(spec, cfg));
    } catch (e) {
      copyError = e as Error;
    }
    await this.runOne(spec, io, xenCopyCleanupStep(spec, cfg)).catch((e: Error) => {
      throw new StepError(`${copyError ? `copying /data failed (${copyError.message}), and ` : ""}the disks could not be unmounted (${e.message}); the old disk is kept as ${k.keptPath}, untouched: an admin unmounts ${k.keptMount} and ${k.mountPoint}`);
    });
    if (!copyError) return this.runOne(spec, io, xenDropOldStep(spec, cfg));
    await this.runOne(spec, io, xenPutBackStep(spec, cfg)).catch((e: Error) => {
      throw new StepError(`copying /data to the new disk failed (${copyError.message}); the old disk is kept as ${k.keptPath}, untouched, but could not get its name back (${e.message}): an admin renames it (lvrename ${k.vg} ${k.keptLv} ${k.lv})`);
    });
    throw new StepError(
      `copying /data to the new disk failed (${copyError.message}). Nothing is lost: the new disk was removed and the old one is back as ${k.lvPath}, as it was before the reinstall, /data included; ${spec.hostname} stays off. Retry to try the reinstall again`,
    );
  }

  /** Service IPs (./service-ips.ts): on the running guest over SSH from dom0, and in its interfaces file. */
  attachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo) {
    return this.runOne(spec, io, xenServiceIpAttachStep(spec, XenDriver.config(spec.host), sip));
  }

  async detachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo, opts: { persist?: boolean } = {}) {
    const cfg = XenDriver.config(spec.host);
    if ((await this.status(spec)) === "running") return this.runOne(spec, io, xenServiceIpDetachStep(spec, cfg, sip, opts.persist !== false));
    await io.log(`${spec.hostname} is not running: only its interfaces file holds ${sip.ip}`);
    if (opts.persist !== false) await this.runOne(spec, io, xenServiceIpOfflineStep(spec, cfg));
  }

  async persistServiceIps(spec: DeploySpec, io: StepIo) {
    const cfg = XenDriver.config(spec.host);
    return this.runOne(spec, io, (await this.status(spec)) === "running" ? xenServiceIpPersistStep(spec, cfg) : xenServiceIpOfflineStep(spec, cfg));
  }

  /** Networks kept apart on dom0 (nftables), routed pairs let through. */
  applyNetworkPolicy(host: DeploySpec["host"], policy: NetworkPolicy, io: StepIo) {
    return this.runOnHost(host, io, xenNetworkPolicyStep(XenDriver.config(host), policy));
  }

  usage(spec: DeploySpec) { return this.onHost(spec.host, (t) => xenGuestUsage(t, spec, XenDriver.config(spec.host))); }
  hostUsage(host: DeploySpec["host"]) { return this.onHost(host, (t) => xenHostUsage(t, host, XenDriver.config(host))); }

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

  /** A stopped guest's configuration to another Xen host on the same SAN; it stays stopped (./migration.ts). */
  async moveStopped(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    if (target.kind !== "xen") throw new StepError(`${target.name} is a ${target.kind} host; a Xen guest moves only to another Xen host`);
    if (target.id === spec.host.id) throw new StepError(`${spec.hostname} is already on ${target.name}`);
    const plan = xenStoppedMovePlan(spec, XenDriver.config(spec.host), target, XenDriver.config(target));
    const started = Date.now();
    await io.progress(5, `checking ${spec.hostname} is stopped on ${spec.host.name}`);
    await this.runOne(spec, io, plan.check);
    await io.progress(40, `writing the domain configuration on ${target.name}`);
    await this.runOne({ ...spec, host: target }, io, plan.prepare);
    await this.runOne(spec, io, plan.cleanup);
    await io.progress(100, `on ${target.name}, stopped`);
    return { mode: "cold", totalMs: Date.now() - started, downtimeMs: null, transferredBytes: null };
  }

  /**
   * Backup: the marker typed on the running guest's console (`xl console`; the guest's console
   * must hold a root shell), an LVM snapshot, the snapshot copied compressed to the host's stage
   * directory with its sha256, streamed into `sink` and compared (./backup.ts).
   */
  async exportDisk(spec: DeploySpec, io: StepIo, sink: DiskSink, opts: { marker?: string } = {}) {
    const cfg = XenDriver.config(spec.host);
    const label = backupLabel();
    const running = (await this.status(spec)) === "running";
    let marker = false;
    if (opts.marker && running) marker = await writeMarkerOnConsole(() => this.openConsole(spec), opts.marker, io);
    else if (opts.marker) await io.log(`${spec.hostname} is stopped: no marker written; the backup cannot be proven by its marker`);
    const file = stagedBackupFile(cfg.stageDir, label);
    const stored = await this.exportQuiesced(spec, io, sink, { steps: xenBackupPlan(spec, cfg, label, file), file, format: DISK_FORMAT }, running);
    return { ...stored, marker };
  }

  /** A recipe's hook typed on the guest's console (`xl console`; the console must hold a root shell): ../guest-hooks.ts. */
  runGuestHook(spec: DeploySpec, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo): Promise<GuestHookResult> {
    return runHookOnConsole(() => this.openConsole(spec), hook, opts, io);
  }

  /** In-place restore: shut down, the copy written back onto the guest's LV, started from its own config (same name, MACs). */
  importDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo) {
    const cfg = XenDriver.config(spec.host);
    const file = stagedBackupFile(cfg.stageDir, `restore-${backupLabel().slice(7)}`);
    return this.importPlanned(spec, disk, io, { steps: xenRestorePlan(spec, cfg, file), file, format: DISK_FORMAT });
  }

  /** Proven restore: domain verify-<probe> on an LV of its own, no vif; ready when its console shell answers, which reads the marker. */
  verifyDisk(spec: DeploySpec, disk: DiskCopy, probe: string, io: StepIo) {
    const cfg = XenDriver.config(spec.host);
    const file = stagedBackupFile(cfg.stageDir, `verify-${probe}`);
    const guest = verifyGuest(spec, probe);
    const plan = xenVerifyPlan(spec, cfg, probe, file);
    return this.verifyPlanned(spec, disk, io, {
      ...plan,
      file,
      format: DISK_FORMAT,
      readMarker: async () => {
        const marker = await readMarkerOnConsole(() => this.openConsole(guest), 6);
        await io.log(`${guest.hostname} is ready: its console shell answers`);
        return marker;
      },
    });
  }
}
