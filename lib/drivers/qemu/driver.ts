import path from "node:path";
import type { Duplex } from "node:stream";
import { packImage, removeImageWork, resolveImage, unpackImage } from "../images/pipeline";
import { sshFingerprint } from "../../validation/ssh-fingerprint";
import type { ConnectHost } from "../plan/driver";
import { transportStepError } from "../transport/errors";
import type { Transport } from "../transport/types";
import { StepError, type AddressWatch, type NetworkPolicy, type ServiceIpRef, type DeploySpec, type DiskCopy, type DiskSink, type GuestHook, type GuestHookResult, type GuestStatus, type HypervisorDriver, type MigrateIo, type MigrationResult, type SnapshotRef, type SnapshotTaken, type StepIo } from "../types";
import { guestFiles, qemuArgv, type QemuPlan } from "./args";
import { capCpu, cgroupName, removeCgroup } from "./cgroup";
import { buildConfigOverlay, buildGlueArchive, glueMotd, guestKernelAppend, parseReadyLine, type GlueInput, type GlueServiceIp, type ReadyReport } from "./glue";
import { ensureGuestNetwork, hostKey, netnsName, networkMode, nicPlans, removeGuestTaps, type NetworkMode } from "./netns";
import { guestPid, guestPids, launchGuest, queryGuest, stopGuest } from "./process";
import { followLog, markerMismatches, pokeGuest } from "./serial";
import { migrateGuest } from "./migrate";
import { applyIsolation, namespaceExists } from "./isolation";
import { glueServiceIps, guestServiceIp, nicMacFor, watchFromNamespace } from "./service-ips";
import { moveStoppedGuest } from "./cold-move";
import { applySnapshotStopped, listDiskSnapshots, loadSnapshotRunning, removeSnapshot, takeSnapshot } from "./snapshots";
import { consoleOf, exportGuestDisk, readMarker, replaceGuestDisk } from "./backup";
import { runHookOnConsole } from "../guest-hooks";
import { linuxHostUsage, qemuGuestUsage } from "./usage";
import { connectLocalOnly, guestDir, hostConfig, imageStore, packKey, readyTimeoutMs, stagingDir, stopGraceMs, workDir } from "./host";

/** What configureNetwork decided, kept in the guest's folder for boot, start and migration. */
export type GuestNetwork = { mode: "bridge"; netns: string; taps: string[] } | { mode: "user"; why: string };

async function must(t: Transport, argv: string[], what: string, signal?: AbortSignal) {
  const r = await t.run(argv, { timeoutMs: 300_000, signal });
  if (r.code !== 0) throw new StepError(`${what} failed: ${r.stderr.trim().split("\n").slice(-2).join(" | ") || `${argv[0]} exit ${r.code}`}`);
  return r;
}

function prefixOf(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

/** The guest's memory: the flavor's, or its memory cap when lower. */
function memoryMb(spec: DeploySpec): number {
  return Math.min(spec.flavor.memoryMb, spec.flavor.memoryCapMb ?? spec.flavor.memoryMb);
}

/** CPUs of host time the guest may use: the flavor's cap (capped container), else its vCPUs. */
function cpuCap(spec: DeploySpec): number {
  return spec.flavor.cpuCap ?? spec.flavor.vcpus;
}

/**
 * The QEMU driver: real guests on a QEMU host (TCG here; no KVM needed). mk_image through
 * lib/drivers/images (resolve, pack with checksums); mk_virtual: a qcow2 overlay sized by the
 * flavor on the unpacked image, a bridge and tap per network in the host's network
 * namespace, the glue archive appended to the golden initramfs, QEMU daemonized (it outlives
 * the worker) with QMP and the serial console on unix sockets, and readiness only when the
 * guest's own PORTAL-READY line matches the portal's hostname, IPs and MACs. Every method
 * checks the host first, since delivery is at least once.
 *
 * Everything on the host goes through the host's Transport (`connect`): commands as argv,
 * files, and the QMP and serial sockets as streams. A host with address "local" is this
 * machine; any other is reached over SSH with its key and pinned host key, and guests then
 * run as the SSH user (bridges, taps and CPU quotas need root there, as they do locally).
 */
export class QemuDriver implements HypervisorDriver {
  readonly kind = "qemu" as const;
  readonly capabilities = { liveMigration: true, coldMove: false, cpuCap: true, sparseRoot: false, snapshots: true, resize: true, keepData: true };

  constructor(private readonly connect: ConnectHost = connectLocalOnly) {}

  private files(spec: DeploySpec) {
    return guestFiles(guestDir(spec));
  }

  /** Runs `fn` on the host's transport; a lost connection, refused login or changed host key becomes a readable step error. */
  private async withHost<T>(spec: DeploySpec, fn: (t: Transport) => Promise<T>): Promise<T> {
    let t: Transport | null = null;
    try {
      t = await this.connect(spec.host);
      return await fn(t);
    } catch (err) {
      throw transportStepError(err, `${spec.host.name} (${t?.description ?? spec.host.address})`);
    } finally {
      await t?.close().catch(() => {});
    }
  }

  /**
   * The folders this guest needs on the host, checked before the first write: the image store
   * readable (golden images) and writable (packed images), the work folder creatable, so a
   * login user without the rights fails with what to fix instead of a tool's message.
   */
  private async checkHostFolders(t: Transport, spec: DeploySpec, io: StepIo) {
    const store = imageStore(spec.host);
    const dir = workDir(spec.host);
    const who = t.description === "local" ? "the worker" : `the SSH user (${t.description})`;
    const packed = path.join(store, "packed");
    const madePacked = await t.run(["mkdir", "-p", packed]);
    if (madePacked.code !== 0 || (await t.run(["test", "-w", packed])).code !== 0) {
      throw new StepError(`${who} cannot write ${packed} on ${spec.host.name}; give it write access to the image store's packed folder (e.g. chown it to that user)`);
    }
    const made = await t.run(["mkdir", "-p", dir]);
    if (made.code !== 0 || (await t.run(["test", "-w", dir])).code !== 0) {
      throw new StepError(`${who} cannot create or write the work folder ${dir} on ${spec.host.name}; create it owned by that user, or set the host's workDir to a folder it owns`);
    }
    await io.log(`${spec.host.name} via ${t.description}: image store ${store}, work folder ${dir}`);
  }

  // mk_image

  resolveImage(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      await this.checkHostFolders(t, spec, io);
      const version = spec.image.version;
      if (version) await io.log(`image ${spec.image.slug} version ${version.number}${version.build ? ` (build ${version.build})` : ""}`);
      await resolveImage(t, imageStore(spec.host), { slug: spec.image.slug, source: spec.image.source, diskGb: spec.flavor.diskGb, build: version?.build ?? null }, stagingDir(spec), io);
    });
  }

  packImage(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      await packImage(t, imageStore(spec.host), packKey(spec), stagingDir(spec), { slug: spec.image.slug, source: spec.image.source }, io);
    });
  }

  // mk_virtual

  /**
   * The guest's own disk: a qcow2 overlay of the flavor's size on the image that the next
   * step unpacks into `image/` (created with -u, since that image is not there yet; the
   * backing path is relative, so the folder can move as a whole). On a rebuild that keeps the
   * data, the disk destroy set aside goes back instead: the disk is the guest's /data (its
   * root is the image's initramfs), so the new image boots on the old data.
   */
  createStorage(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      if (spec.keepData) {
        await this.takeBackKeptDisk(t, spec, io);
        return;
      }
      const size = `${spec.flavor.diskGb}G`;
      const info = await this.diskInfo(t, f.disk);
      if (info && info.backing === "image/disk.qcow2" && info.virtualSize === spec.flavor.diskGb * 1024 ** 3) {
        await io.log(`disk ${f.disk} already exists (${size} overlay on image/disk.qcow2); nothing to do`);
        return;
      }
      if (await guestPid(t, f.dir)) throw new StepError(`a guest is running from ${f.dir}; refusing to replace its disk`);
      await must(t, ["mkdir", "-p", f.dir], "creating the guest folder", io.signal);
      const df = await t.run(["df", "-B1", "--output=avail", f.dir]);
      const avail = Number(df.stdout.trim().split("\n").pop());
      if (Number.isFinite(avail)) await io.log(`${spec.host.name}: ${(avail / 1024 ** 3).toFixed(1)} GiB free for the guest folder (the overlay grows on write up to ${size})`);
      await io.log(`qemu-img create -f qcow2 -b image/disk.qcow2 -F qcow2 disk.qcow2 ${size}`);
      await must(t, ["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "image/disk.qcow2", "-F", "qcow2", f.disk, size], "qemu-img create (overlay)", io.signal);
      await io.log(`disk ${f.disk}: ${size} copy-on-write overlay created`);
    });
  }

  /**
   * Where destroy leaves the disk of a rebuild that keeps the data: beside the guest folder
   * (which destroy removes), so a retried step finds it in one of the two places.
   */
  private keptDisk(spec: DeploySpec): string {
    return `${this.files(spec).dir}.kept-disk.qcow2`;
  }

  private async takeBackKeptDisk(t: Transport, spec: DeploySpec, io: StepIo) {
    const f = this.files(spec);
    const kept = this.keptDisk(spec);
    if ((await t.run(["test", "-f", kept])).code === 0) {
      if (await guestPid(t, f.dir)) throw new StepError(`a guest is running from ${f.dir}; refusing to replace its disk`);
      await must(t, ["mkdir", "-p", f.dir], "creating the guest folder", io.signal);
      await must(t, ["mv", "-f", kept, f.disk], "putting the kept disk back", io.signal);
      await io.log(`disk ${f.disk}: the kept disk (the guest's /data) is back in the guest folder`);
    } else if ((await t.run(["test", "-f", f.disk])).code === 0) {
      await io.log(`disk ${f.disk}: the kept disk is already in place`);
    } else {
      // Never make a blank disk here: the owner asked for their data, and a blank one would hide that it is gone.
      throw new StepError(`the kept disk of ${spec.hostname} is neither at ${kept} nor at ${f.disk}; its data cannot be kept`);
    }
  }

  private async diskInfo(t: Transport, file: string): Promise<{ virtualSize: number; backing: string | null } | null> {
    if ((await t.run(["test", "-f", file])).code !== 0) return null;
    const r = await t.run(["qemu-img", "info", "-U", "--output=json", file]);
    if (r.code !== 0) return null;
    const info = JSON.parse(r.stdout) as { "virtual-size": number; "backing-filename"?: string };
    return { virtualSize: info["virtual-size"], backing: info["backing-filename"] ?? null };
  }

  unpack(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      if (await guestPid(t, f.dir)) {
        await io.log(`guest ${spec.hostname} is already running from ${f.dir}; its image is unpacked`);
        return;
      }
      await unpackImage(t, imageStore(spec.host), packKey(spec), path.join(f.dir, "image"), io);
      await must(t, ["qemu-img", "info", "--backing-chain", "-U", f.disk], "checking the overlay's backing chain", io.signal);
      await io.log(`overlay ${path.basename(f.disk)} now backed by the unpacked image`);
      if (spec.keepData) {
        // The portal dropped the environment's snapshots with the rebuild; drop them from the
        // kept disk too (here, since qemu-img needs the disk's backing image to write it).
        for (const s of await listDiskSnapshots(t, f.disk)) {
          await must(t, ["qemu-img", "snapshot", "-d", s.name, f.disk], `qemu-img snapshot -d ${s.name}`, io.signal);
          await io.log(`removed snapshot ${s.name} from the kept disk`);
        }
      }
    });
  }

  configureNetwork(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const net = await this.prepareNetwork(t, spec, spec.host, io);
      await t.writeFile(path.join(this.files(spec).dir, "network.json"), JSON.stringify(net));
    });
  }

  /**
   * Bridges and taps for the guest's NICs on `host` (also the target of a migration), or the
   * user-mode fallback with the reason. Idempotent.
   */
  async prepareNetwork(t: Transport, spec: DeploySpec, host: DeploySpec["host"], io: StepIo): Promise<GuestNetwork> {
    const mode: NetworkMode = await networkMode(t, host);
    const nics = nicPlans(spec.addresses);
    for (const a of spec.addresses) await io.log(`nic ${a.purpose} ${a.network}: ${a.ip}/${prefixOf(a.cidr)} mac ${a.mac} gateway ${a.gateway}`);
    if (mode.kind === "user") {
      await io.log(`user-mode networking (QEMU -netdev user): ${mode.why}; the guest keeps its addresses but cannot be reached from the host`);
      return { mode: "user", why: mode.why };
    }
    let lines: string[];
    try {
      lines = await ensureGuestNetwork(t, mode.netns, nics, io.signal);
    } catch (err) {
      if (io.signal.aborted) throw err;
      throw new StepError(`${host.name} could not set up the guest's network: ${(err as Error).message}`);
    }
    for (const line of lines) await io.log(line);
    await io.log(`bridged in network namespace ${mode.netns}: ${nics.map((n) => `${n.tap} on ${n.bridge}`).join(", ")}`);
    if (spec.networkPolicy) for (const line of await applyIsolation(t, mode.netns, spec.networkPolicy, io.signal)) await io.log(line);
    return { mode: "bridge", netns: mode.netns, taps: nics.map((n) => n.tap) };
  }

  /** Hostname, the owner's key, NICs, service IPs and a motd naming the order, appended to the golden initramfs. */
  glue(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, (t) => this.writeGlue(t, spec, io));
  }

  /** The glue step's work on an open transport (also when a service IP comes or goes: the next boot keeps it). */
  private glueInput(spec: DeploySpec): GlueInput {
    return {
      hostname: spec.hostname,
      nics: spec.addresses.map((a) => ({ mac: a.mac, ip: a.ip, prefix: prefixOf(a.cidr), gateway: a.purpose === "production" ? a.gateway : null, purpose: a.purpose })),
      authorizedKeys: spec.sshPublicKey,
      motd: glueMotd({ hostname: spec.hostname, orderId: spec.orderId, orderName: spec.hostname }),
      serviceIps: glueServiceIps(spec),
      recipe: spec.recipe ?? null,
      accounts: spec.accounts ?? [],
      settings: spec.settings ?? null,
      image: spec.image.version ? { slug: spec.image.slug, version: spec.image.version.number } : null,
    };
  }

  private async writeGlue(t: Transport, spec: DeploySpec, io: StepIo) {
    const f = this.files(spec);
    const input = this.glueInput(spec);
    const serviceIps = input.serviceIps as GlueServiceIp[];
    const glue = await buildGlueArchive(input);
    const golden = await t.readFile(path.join(f.dir, "image", "initramfs.cpio.gz"));
    if (!golden) throw new StepError(`the unpacked image has no initramfs in ${f.dir}/image`);
    const initrd = Buffer.concat([golden, glue]);
    const existing = await t.readFile(f.initrd);
    const cap = spec.flavor.cpuCap ? `, capped at ${spec.flavor.cpuCap} CPUs` : "";
    await io.log(`hostname ${spec.hostname}; ${spec.flavor.vcpus} vCPUs, ${memoryMb(spec)} MiB${cap}`);
    await io.log(spec.sshPublicKey ? `authorized_keys: owner's key ${sshFingerprint(spec.sshPublicKey)} installed` : "authorized_keys: owner has no key on file");
    await io.log(serviceIps.length ? `service IPs ${serviceIps.map((s) => s.ip).join(", ")}, each on its network's NIC` : "no service IPs");
    if (existing && existing.equals(initrd)) {
      await io.log(`initrd with this glue already written (${initrd.length} bytes); nothing to do`);
      return;
    }
    // Only QEMU (the same user) reads them: the glue may hold a recipe's secrets (a service's
    // password, a database password's verifier).
    await t.writeFile(f.glue, glue, { mode: 0o600 });
    await t.writeFile(f.initrd, initrd, { mode: 0o600 });
    await must(t, ["chmod", "600", f.glue, f.initrd], "making the glue and initrd private", io.signal);
    await io.log(`glue archive ${glue.length} bytes appended to the golden initramfs -> ${path.basename(f.initrd)} (${initrd.length} bytes)`);
  }

  /** The QEMU plan of this guest on `host` (boot, start, and the target of a migration). */
  async plan(t: Transport, spec: DeploySpec, host: DeploySpec["host"] = spec.host): Promise<{ plan: QemuPlan; network: GuestNetwork }> {
    const f = guestFiles(guestDir(spec, host));
    const raw = await t.readFile(path.join(f.dir, "network.json"));
    const network: GuestNetwork = raw ? (JSON.parse(raw.toString("utf8")) as GuestNetwork) : { mode: "user", why: "no network was configured" };
    const nics = nicPlans(spec.addresses);
    const plan: QemuPlan = {
      name: spec.hostname,
      dir: f.dir,
      vcpus: spec.flavor.vcpus,
      memoryMb: memoryMb(spec),
      kernel: path.join(f.dir, "image", "vmlinuz"),
      initrd: f.initrd,
      append: `${guestKernelAppend} loglevel=6`,
      disk: f.disk,
      nics: nics.map((n) => ({ mac: n.mac, tap: network.mode === "bridge" ? n.tap : null })),
      accel: hostConfig(host).accel,
    };
    return { plan, network };
  }

  boot(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      const running = await guestPid(t, f.dir);
      if (running) {
        await io.log(`guest ${spec.hostname} is already running (QEMU pid ${running}); nothing to do`);
        return;
      }
      await this.launch(t, spec, io);
    });
  }

  /** Starts QEMU for the guest and caps its CPU; the caller has checked that none runs. */
  private async launch(t: Transport, spec: DeploySpec, io: StepIo): Promise<number> {
    const { plan, network } = await this.plan(t, spec);
    if (network.mode === "bridge") {
      // Taps are gone after a host reboot: make sure they are there (idempotent).
      await ensureGuestNetwork(t, network.netns, nicPlans(spec.addresses), io.signal);
    }
    await t.writeFile(guestFiles(plan.dir).plan, JSON.stringify(plan, null, 2));
    const argv = qemuArgv(plan);
    await io.log(`${network.mode === "bridge" ? `ip netns exec ${network.netns} ` : ""}${argv.join(" ")}`);
    let pid: number;
    try {
      pid = await launchGuest(t, plan, { netns: network.mode === "bridge" ? network.netns : null, signal: io.signal });
    } catch (err) {
      // Another start won the race (QEMU's pidfile and disk locks refuse a second instance).
      const other = await guestPid(t, plan.dir);
      if (other) {
        await io.log(`guest ${spec.hostname} is already running (QEMU pid ${other})`);
        return other;
      }
      throw new StepError(`QEMU did not start: ${(err as Error).message}`);
    }
    await io.log(`QEMU running as pid ${pid} (${plan.vcpus} vCPU, ${plan.memoryMb} MiB, ${plan.accel ?? "tcg"})`);
    const cap = cpuCap(spec);
    const capped = await capCpu(t, cgroupName(hostKey(spec.host), spec.hostname), pid, cap);
    await io.log(
      capped.applied
        ? `CPU capped at ${cap} CPU${cap === 1 ? "" : "s"} of host time: ${capped.how} (${capped.cgroup}), like a capped container`
        : `no CPU quota on the QEMU process: ${capped.why}; the guest is limited to its ${plan.vcpus} vCPU${plan.vcpus === 1 ? "" : "s"} by -smp only`,
    );
    return pid;
  }

  /**
   * Follows the serial console into the step log until the guest's PORTAL-READY line, and
   * accepts it only when hostname, MACs and IPs are the portal's, its disk is at /data and
   * its SSH server listens.
   */
  waitReady(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const report = await this.awaitReady(t, spec, io);
      const data = report.dataBytes ? `, /data ${report.dataBytes} bytes` : "";
      const ssh = report.ssh?.port ? `, SSH on port ${report.ssh.port}${report.ssh.hostKey ? ` (host key ${report.ssh.hostKey})` : ""}` : "";
      await io.log(
        `guest reports ready after ${report.uptimeSeconds.toFixed(1)} s of uptime: ${report.hostname}, ${report.nics.map((n) => `${n.ip}/${n.prefix} (${n.mac})`).join(", ")}, disk ${report.diskBytes} bytes${data}${ssh}`,
      );
    });
  }

  private async awaitReady(t: Transport, spec: DeploySpec, io: StepIo): Promise<ReadyReport> {
    const f = this.files(spec);
    const timeoutMs = readyTimeoutMs(spec.host);
    if (!(await guestPid(t, f.dir))) throw new StepError(`guest ${spec.hostname} is not running on ${spec.host.name} (QEMU exited); see the boot log above`);
    await io.log(`waiting up to ${Math.round(timeoutMs / 1000)} s for the guest's PORTAL-READY line on its serial console`);
    let lastPoke = 0;
    let gone = false;
    const report = await followLog(t, f.serialLog, {
      timeoutMs,
      signal: io.signal,
      onLine: (line) => io.log(line),
      until: (line) => parseReadyLine(line),
      onIdle: async (waited) => {
        if (waited - lastPoke >= 10_000) {
          lastPoke = waited;
          if (!(await guestPid(t, f.dir))) gone = true;
          // A guest that printed its line before we were watching (worker restart) prints it again.
          else await pokeGuest(t, f.serialSock);
        }
        if (gone) throw new StepError(`QEMU exited while the guest was booting; see the boot log above`);
      },
    });
    if (!report) throw new StepError(`the guest did not report PORTAL-READY within ${Math.round(timeoutMs / 1000)} s (see the boot log above)`);
    const problems = markerMismatches(report, {
      hostname: spec.hostname,
      nics: spec.addresses.map((a) => ({ mac: a.mac, ip: a.ip, prefix: prefixOf(a.cidr) })),
      imageVersion: spec.image.version?.number ?? null,
    });
    if (problems.length) throw new StepError(`the guest came up different from the order: ${problems.join("; ")}`);
    if (!spec.recipe && report.recipe && report.recipe.check !== "ok") {
      // A start, restore or move of a guest with a recipe: its service must come back too.
      throw new StepError(`the guest is up but its recipe ${report.recipe.name} ${report.recipe.check === "setup-failed" ? "failed during setup" : "did not pass its check"} (see its "portal-recipe:" lines above)`);
    }
    if (spec.recipe) {
      const want = `${spec.recipe.slug}/${spec.recipe.version}`;
      if (report.recipe?.name !== want) throw new StepError(`the guest did not run the recipe ${want} (it reports ${report.recipe?.name ?? "none"}); see the boot log above`);
      if (report.recipe.check === "setup-failed") throw new StepError(`the recipe ${want} failed during setup (see its "portal-recipe:" lines above)`);
      if (report.recipe.check !== "ok") throw new StepError(`the recipe ${want} did not pass its check within ${spec.recipe.timeoutSeconds} s (see its "portal-recipe: check:" lines above)`);
    }
    return report;
  }

  // teardown and lifecycle

  halt(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const how = await stopGuest(t, this.files(spec).dir, { graceMs: stopGraceMs(spec.host), signal: io.signal, log: io.log });
      await io.log(how === "not-running" ? `guest ${spec.hostname} is not running on ${spec.host.name}; nothing to stop` : `guest ${spec.hostname} stopped (${how})`);
    });
  }

  destroy(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      for (const pid of await guestPids(t, f.dir)) {
        await io.log(`QEMU pid ${pid} still runs for ${spec.hostname}; stopping it`);
        await stopGuest(t, f.dir, { graceMs: 0, signal: io.signal, log: io.log });
        if ((await guestPids(t, f.dir)).includes(pid)) await t.run(["kill", "-KILL", String(pid)]);
      }
      const raw = await t.readFile(path.join(f.dir, "network.json"));
      const network = raw ? (JSON.parse(raw.toString("utf8")) as GuestNetwork) : null;
      if (network?.mode !== "user") {
        // Also when network.json was never written (a step interrupted after creating taps).
        const netns = network?.netns ?? netnsName(spec.host);
        const taps = [...new Set([...(network?.taps ?? []), ...nicPlans(spec.addresses).map((n) => n.tap)])];
        const removed = await removeGuestTaps(t, netns, taps);
        await io.log(removed.length ? `removed taps ${removed.join(", ")} from ${netns}` : `no taps of ${spec.hostname} left in ${netns}`);
      }
      if (await removeCgroup(t, cgroupName(hostKey(spec.host), spec.hostname))) await io.log("removed the guest's CPU cgroup");
      if (spec.keepData && (await t.run(["test", "-f", f.disk])).code === 0) {
        await must(t, ["mv", "-f", f.disk, this.keptDisk(spec)], "setting the disk aside", io.signal);
        await io.log(`disk ${f.disk} (the guest's /data) set aside at ${this.keptDisk(spec)}; the rebuild takes it back`);
      } else if (!spec.keepData && (await t.run(["rm", "-f", this.keptDisk(spec)])).code !== 0) {
        // A disk set aside by a rebuild that never finished goes with the environment.
        throw new StepError(`could not remove ${this.keptDisk(spec)}`);
      }
      const existed = (await t.run(["test", "-e", f.dir])).code === 0;
      await removeImageWork(t, imageStore(spec.host), packKey(spec), [stagingDir(spec), f.dir]);
      await io.log(existed ? `removed ${f.dir}, its staging folder and its packed image` : `nothing of ${spec.hostname} left on ${spec.host.name}`);
    });
  }

  /** Boots the stopped guest again from its disk and waits for its PORTAL-READY line. */
  start(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      const running = await guestPid(t, f.dir);
      if (running) await io.log(`guest ${spec.hostname} is already running (QEMU pid ${running})`);
      else {
        if ((await t.run(["test", "-f", f.disk])).code !== 0) throw new StepError(`the guest's disk is missing on ${spec.host.name}; it cannot be started`);
        await this.launch(t, spec, io);
      }
      await this.awaitReady(t, spec, io);
    });
  }

  /** ACPI power button, then QMP quit after the grace time; disk, glue and taps stay. */
  stop(spec: DeploySpec, io: StepIo) {
    return this.withHost(spec, async (t) => {
      const how = await stopGuest(t, this.files(spec).dir, { graceMs: stopGraceMs(spec.host), signal: io.signal, log: io.log });
      await io.log(how === "not-running" ? `guest ${spec.hostname} was not running` : `guest ${spec.hostname} stopped (${how === "powered-off" ? "powered off by the guest" : how})`);
    });
  }

  /** Live migration to another QEMU host of this machine (lib/drivers/qemu/migrate.ts); hosts reached over SSH are refused there. */
  migrate(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    return migrateGuest(this, spec, target, io).catch((err: unknown) => {
      throw transportStepError(err, spec.host.name);
    });
  }

  /** A stopped guest's files to another QEMU host of this machine, where it stays stopped (./cold-move.ts). */
  moveStopped(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
    return moveStoppedGuest(this, spec, target, io).catch((err: unknown) => {
      throw transportStepError(err, spec.host.name);
    });
  }

  /**
   * The login shell on the guest's second serial port (QEMU's console.sock). A guest started
   * before its QEMU line had that port has no console until it is stopped and started again.
   */
  async openConsole(spec: DeploySpec): Promise<Duplex> {
    const t = await this.connect(spec.host);
    try {
      const stream = await t.openStream(this.files(spec).consoleSock);
      stream.once("close", () => void t.close().catch(() => {}));
      return stream;
    } catch {
      await t.close().catch(() => {});
      throw new StepError(`${spec.hostname} has no console on ${spec.host.name} now: it is not running, or it was started before consoles existed (stop and start it once)`);
    }
  }

  /** qcow2 internal snapshot of the overlay: with memory (savevm) while the guest runs (lib/drivers/qemu/snapshots.ts). */
  takeSnapshot(spec: DeploySpec, tag: string, io: StepIo): Promise<SnapshotTaken> {
    return this.withHost(spec, async (t) => {
      const taken = await takeSnapshot(t, this.files(spec).dir, tag, io.log, io.signal);
      return { withMemory: taken.vmStateBytes > 0, sizeBytes: taken.vmStateBytes || null };
    });
  }

  /**
   * A snapshot with memory is loaded into the running guest (started first when it is
   * stopped: loadvm needs a QEMU); a disk-only one, or one whose memory no longer fits the
   * guest, is applied with the guest stopped, and the guest is started again if it ran (or
   * was started for loadvm). The NICs are the spec's, so addresses and MACs stay.
   */
  revertSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<{ running: boolean }> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      const wasRunning = (await guestPid(t, f.dir)) !== null;
      let loadFailed = false;
      if (snap.withMemory) {
        if (!wasRunning) await this.launch(t, spec, io);
        try {
          await loadSnapshotRunning(t, f.dir, snap.tag, io.log);
          const state = await queryGuest(t, f.dir);
          if (!state?.running) throw new StepError(`the guest is ${state?.status ?? "gone"} after loadvm ${snap.tag}`);
          await io.log(`guest ${spec.hostname} runs from snapshot ${snap.tag}`);
          return { running: true };
        } catch (err) {
          if (!(err instanceof StepError)) throw err;
          // The saved memory no longer fits the guest (e.g. resized since): its disk still does.
          await io.log(`${err.message}; reverting the disk only and booting from it`);
          loadFailed = true;
        }
      }
      if ((await guestPid(t, f.dir)) !== null) {
        // After a failed loadvm the guest's memory is no use: no orderly shutdown to wait for.
        const how = await stopGuest(t, f.dir, { graceMs: loadFailed ? 0 : stopGraceMs(spec.host), signal: io.signal, log: io.log });
        await io.log(`guest ${spec.hostname} stopped (${how}) to revert its disk`);
      }
      await applySnapshotStopped(t, f.dir, snap.tag, io.log, io.signal);
      if (!wasRunning && !snap.withMemory) return { running: false };
      await this.launch(t, spec, io);
      await this.awaitReady(t, spec, io);
      return { running: true };
    });
  }

  deleteSnapshot(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<void> {
    return this.withHost(spec, (t) => removeSnapshot(t, this.files(spec).dir, snap.tag, io.log, io.signal));
  }

  /**
   * Stops the guest, grows its overlay when the new flavor's disk is larger (never shrinks),
   * and starts it with the new -smp/-m and CPU quota (launch writes the new plan.json).
   */
  resize(spec: DeploySpec, from: DeploySpec["flavor"], io: StepIo): Promise<void> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      if ((await t.run(["test", "-f", f.disk])).code !== 0) throw new StepError(`the guest's disk is missing on ${spec.host.name}; it cannot be resized`);
      const how = await stopGuest(t, f.dir, { graceMs: stopGraceMs(spec.host), signal: io.signal, log: io.log });
      await io.log(how === "not-running" ? `guest ${spec.hostname} is stopped` : `guest ${spec.hostname} stopped (${how}) for the resize`);
      await io.log(`${from.vcpus} -> ${spec.flavor.vcpus} vCPUs, ${Math.min(from.memoryMb, from.memoryCapMb ?? from.memoryMb)} -> ${memoryMb(spec)} MiB`);
      const info = await this.diskInfo(t, f.disk);
      const want = spec.flavor.diskGb * 1024 ** 3;
      if (info && info.virtualSize < want) {
        await io.log(`qemu-img resize ${path.basename(f.disk)} ${spec.flavor.diskGb}G (the disk only grows)`);
        await must(t, ["qemu-img", "resize", "-q", f.disk, `${spec.flavor.diskGb}G`], "qemu-img resize", io.signal);
      }
      await this.launch(t, spec, io);
      await this.awaitReady(t, spec, io);
    });
  }

  /** The disk as one qcow2, live through a QMP block job when the guest runs (./backup.ts). */
  exportDisk(spec: DeploySpec, io: StepIo, sink: DiskSink, opts: { marker?: string } = {}) {
    return this.withHost(spec, (t) => exportGuestDisk(t, this.files(spec), io, sink, opts));
  }

  /**
   * Boots a backup's disk as guest `verify-<probe>` with the environment's image and a glue
   * without keys, on one NIC in a network namespace of its own (192.0.2.0/24, a documentation
   * range: nothing of production is there and nothing outside can be reached), reads the
   * marker on its console, and removes the guest, its taps and the namespace whatever happened.
   */
  verifyDisk(spec: DeploySpec, disk: DiskCopy, probe: string, io: StepIo) {
    const ip = "192.0.2.10";
    const throwaway: DeploySpec = {
      ...spec,
      hostname: `verify-${probe}`,
      sshPublicKey: null,
      addresses: [{ network: "verify", purpose: "service", ip, mac: "02:00:00:00:02:0a", cidr: "192.0.2.0/24", gateway: "192.0.2.1", bridge: "verify" }],
    };
    const netns = `portal-verify-${probe}`;
    return this.withHost(spec, async (t) => {
      const mode = await networkMode(t, spec.host);
      if (mode.kind !== "bridge") throw new StepError(`a verification needs a network namespace of its own on ${spec.host.name}: ${mode.why}`);
      const from = this.files(spec);
      const f = this.files(throwaway);
      try {
        await must(t, ["mkdir", "-p", path.join(f.dir, "image")], "creating the throwaway guest's folder");
        for (const file of ["vmlinuz", "initramfs.cpio.gz"]) {
          await must(t, ["cp", path.join(from.dir, "image", file), path.join(f.dir, "image", file)], `copying the environment's ${file}`);
        }
        await replaceGuestDisk(t, f, disk, { graceMs: 0 }, io);
        const nics = nicPlans(throwaway.addresses);
        await ensureGuestNetwork(t, netns, nics, io.signal);
        await t.writeFile(path.join(f.dir, "network.json"), JSON.stringify({ mode: "bridge", netns, taps: nics.map((n) => n.tap) } satisfies GuestNetwork));
        await io.log(`throwaway guest ${throwaway.hostname} on ${ip} in network namespace ${netns}, which holds nothing else`);
        await this.glue(throwaway, io);
        await this.launch(t, throwaway, io);
        await this.awaitReady(t, throwaway, io);
        const marker = await readMarker(t, f);
        await io.log(marker ? `read back ${marker}` : "the booted copy has no backup marker");
        return { marker };
      } finally {
        await this.destroy(throwaway, { ...io, log: async () => {} }).catch(() => {});
        await t.run(["ip", "netns", "del", netns]);
      }
    });
  }

  /** The backup's disk in place of the guest's (stopped) disk; the rebuild's boot step starts it. */
  replaceDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo) {
    return this.withHost(spec, (t) => replaceGuestDisk(t, this.files(spec), disk, { graceMs: 0 }, io));
  }

  /** Stops the guest, swaps its disk for the backup's, boots it with its own definition and waits for the ready line. */
  importDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo) {
    return this.withHost(spec, async (t) => {
      await replaceGuestDisk(t, this.files(spec), disk, { graceMs: stopGraceMs(spec.host) }, io);
      await this.launch(t, spec, io);
      await this.awaitReady(t, spec, io);
    });
  }

  /** A recipe's hook typed on the guest's console shell (../guest-hooks.ts); the guest must be running. */
  runGuestHook(spec: DeploySpec, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo): Promise<GuestHookResult> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      if (!(await guestPid(t, f.dir))) throw new StepError(`${spec.hostname} is not running on ${spec.host.name}; start it first`);
      return runHookOnConsole(consoleOf(t, f), hook, opts, io);
    });
  }

  /** From the host: a QEMU process for the guest (QMP status), its folder only, or nothing. */
  /** The guest's and the host's use (./usage.ts). */
  usage(spec: DeploySpec) { return this.withHost(spec, (t) => qemuGuestUsage(t, spec, guestDir(spec))); }
  async hostUsage(host: DeploySpec["host"]) { const t = await this.connect(host); try { return await linuxHostUsage(t, workDir(host)); } finally { await t.close().catch(() => {}); } }

  /**
   * The address onto the running guest's NIC of its network through the serial console
   * (./service-ips.ts), then into its glue, so a restart, a migration or a rebuild keeps it.
   */
  attachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo): Promise<void> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      const mac = nicMacFor(spec, sip);
      if (!(await guestPid(t, f.dir))) throw new StepError(`${spec.hostname} is not running on ${spec.host.name}; a service IP is attached to a running guest`);
      const said = await guestServiceIp(t, f, "add", sip.ip, mac, { signal: io.signal });
      await io.log(`${spec.hostname}: ${said} (announced with gratuitous ARP)`);
      await this.persistOn(t, spec, io);
    });
  }

  /** Off the running guest's NIC (when it runs), then out of its glue unless `persist` is false. */
  detachServiceIp(spec: DeploySpec, sip: ServiceIpRef, io: StepIo, opts: { persist?: boolean } = {}): Promise<void> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      if (await guestPid(t, f.dir)) {
        const said = await guestServiceIp(t, f, "del", sip.ip, nicMacFor(spec, sip), { signal: io.signal });
        await io.log(`${spec.hostname}: ${said}`);
      } else {
        await io.log(`${spec.hostname} is not running: only its configuration holds ${sip.ip}`);
      }
      if (opts.persist !== false) await this.persistOn(t, spec, io);
    });
  }

  /** The glue with `spec.serviceIps`, for the next boot. */
  persistServiceIps(spec: DeploySpec, io: StepIo): Promise<void> {
    return this.withHost(spec, (t) => this.persistOn(t, spec, io));
  }

  /**
   * Keeps the guest's service IPs for its next boot. A lifecycle action's spec carries no
   * recipe (its secrets are rendered only by the pipeline's glue step), so the glue written then
   * stays as it is and a small archive with the new /portal/config follows it in the initrd.
   */
  private async persistOn(t: Transport, spec: DeploySpec, io: StepIo) {
    const f = this.files(spec);
    const golden = await t.readFile(path.join(f.dir, "image", "initramfs.cpio.gz"));
    if (!golden) return void (await io.log(`${spec.hostname} has no unpacked image on ${spec.host.name}; nothing to rewrite`));
    const glue = await t.readFile(f.glue);
    if (!glue) return this.writeGlue(t, spec, io);
    const input = this.glueInput(spec);
    const initrd = Buffer.concat([golden, glue, await buildConfigOverlay(input)]);
    await t.writeFile(f.initrd, initrd, { mode: 0o600 });
    await must(t, ["chmod", "600", f.initrd], "making the initrd private", io.signal);
    const ips = (input.serviceIps as GlueServiceIp[]).map((s) => s.ip);
    await io.log(`next boot: service IPs ${ips.length ? ips.join(", ") : "none"} (the configuration after the glue in ${path.basename(f.initrd)}; the glue and its recipe unchanged)`);
  }

  /** Pings the address from the host's network namespace (the gateways' side) until stopped. */
  async watchAddress(spec: DeploySpec, ip: string): Promise<AddressWatch> {
    const t = await this.connect(spec.host);
    try {
      const raw = await t.readFile(path.join(this.files(spec).dir, "network.json"));
      const network = raw ? (JSON.parse(raw.toString("utf8")) as GuestNetwork) : null;
      if (network?.mode !== "bridge") {
        await t.close().catch(() => {});
        const why = network?.mode === "user" ? `the guest is on QEMU's user-mode network (${network.why})` : "the guest's network is not set up";
        return { answeredSince: async () => false, stop: async () => ({ downtimeMs: null, note: `not measured: ${why}, so the host cannot reach the address` }) };
      }
      const watch = await watchFromNamespace(t, network.netns, ip);
      return {
        answeredSince: (since, timeoutMs) => watch.answeredSince(since, timeoutMs),
        stop: async () => {
          try {
            return await watch.stop();
          } finally {
            await t.close().catch(() => {});
          }
        },
      };
    } catch (err) {
      await t.close().catch(() => {});
      throw transportStepError(err, spec.host.name);
    }
  }

  /** Which networks may reach each other, applied in the host's namespace now (./isolation.ts); nothing to do before its first guest. */
  async applyNetworkPolicy(host: DeploySpec["host"], policy: NetworkPolicy, io: StepIo): Promise<void> {
    const t = await this.connect(host);
    try {
      const mode = await networkMode(t, host);
      if (mode.kind !== "bridge") return void (await io.log(`${host.name}: user-mode networking (${mode.why}); guests reach no other network through the host`));
      if (!(await namespaceExists(t, mode.netns))) return void (await io.log(`${host.name}: no guest network yet; the rules apply when its first guest's network is set up`));
      for (const line of await applyIsolation(t, mode.netns, policy, io.signal)) await io.log(`${host.name}: ${line}`);
    } catch (err) {
      throw transportStepError(err, host.name);
    } finally {
      await t.close().catch(() => {});
    }
  }

  status(spec: DeploySpec): Promise<GuestStatus> {
    return this.withHost(spec, async (t) => {
      const f = this.files(spec);
      const state = await queryGuest(t, f.dir);
      if (state) return state.status === "shutdown" ? "stopped" : "running";
      return (await t.run(["test", "-f", f.disk])).code === 0 ? "stopped" : "missing";
    });
  }
}
