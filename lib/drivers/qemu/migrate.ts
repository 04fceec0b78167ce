import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Transport } from "../transport/types";
import { StepError, type DeploySpec, type MigrateIo, type MigrationResult } from "../types";
import { guestFiles, qemuArgv, type QemuPlan } from "./args";
import { capCpu, cgroupName, removeCgroup } from "./cgroup";
import type { GuestNetwork } from "./driver";
import { LocalTransport } from "../transport/local";
import { LOCAL_HOST } from "../transport/address";
import { guestDir, stagingDir } from "./host";
import { hostKey, removeGuestTaps } from "./netns";
import { guestPid, launchGuest, queryGuest } from "./process";
import { withQmp } from "./qmp";

/**
 * Live migration of a QEMU guest between two hosts of this machine (shared storage: the
 * hosts' work folders are on one filesystem, so the target's guest folder holds hard links to
 * the same disk, kernel and initrd; the overlay's relative backing path `image/disk.qcow2`
 * resolves in the new folder).
 *
 * 1. The target's guest folder: links to the guest's files, its NICs' taps in the target
 *    host's namespace (same MACs and addresses), network.json.
 * 2. The destination QEMU: the driver's own command line for the target plus `-incoming`
 *    (a unix socket in the target folder when a host runs its guests in a network namespace,
 *    since each host has its own loopback; else tcp:127.0.0.1:<port> from the host's
 *    migrationPorts range).
 * 3. QMP `migrate` on the source, `query-migrate` polled for progress until `completed`
 *    (total-time, downtime, bytes) or `failed`.
 * 4. Success: the destination must report `running`; the source QEMU quits; the source's
 *    taps, CPU cgroup and folder go. Failure anywhere: the destination is quit and its
 *    folder removed, the source is resumed if it was paused, and a StepError says why — the
 *    guest keeps running where it was.
 */

/** What the driver offers the migration (the QEMU driver implements it). */
export interface MigratableDriver {
  plan(t: Transport, spec: DeploySpec, host: DeploySpec["host"]): Promise<{ plan: QemuPlan; network: GuestNetwork }>;
  prepareNetwork(t: Transport, spec: DeploySpec, host: DeploySpec["host"], io: MigrateIo): Promise<GuestNetwork>;
}

type Host = DeploySpec["host"];

/** Host config keys the migration reads (hosts.config of the target). */
export type QemuMigrationConfig = {
  /** TCP ports the destination may listen on, inclusive (user-mode networking only). Default 49152-49407. */
  migrationPorts?: [number, number];
  /** Cap on the migration stream in bytes per second (QMP max-bandwidth); default QEMU's. */
  migrationMaxBandwidth?: number;
};

/** Files of a guest folder that belong to one QEMU process and are not carried over. */
const perProcess = new Set(["qemu.pid", "qmp.sock", "serial.sock", "serial.log", "network.json", "plan.json", "migrate.sock", "migration.json"]);

const pollMs = 200;
/** QEMU's own default for max-bandwidth (128 MiB/s). */
const defaultMaxBandwidth = 134_217_728;
const migrationTimeoutMs = 600_000;

type QueryMigrate = {
  status?: string;
  "total-time"?: number;
  downtime?: number;
  "error-desc"?: string;
  ram?: { transferred?: number; remaining?: number; total?: number };
};

async function must(t: Transport, argv: string[], what: string, signal?: AbortSignal) {
  const r = await t.run(argv, { timeoutMs: 120_000, signal });
  if (r.code !== 0) throw new StepError(`${what} failed: ${r.stderr.trim().split("\n").slice(-2).join(" | ") || `${argv[0]} exit ${r.code}`}`);
  return r;
}

function readNetwork(raw: Buffer | null): GuestNetwork | null {
  return raw ? (JSON.parse(raw.toString("utf8")) as GuestNetwork) : null;
}

/** Ports this process has found free and not yet handed to its QEMU (two migrations starting at once). */
const claimedPorts = new Set<number>();

function releasePort(port: number): void {
  claimedPorts.delete(port);
}

/**
 * A TCP port on 127.0.0.1 nothing listens on, from the target's range, and claimed until the
 * destination QEMU has bound it (releasePort): another migration of this process skips it.
 */
async function freePort(host: Host): Promise<number> {
  const [from, to] = (host.config as QemuMigrationConfig).migrationPorts ?? [49152, 49407];
  for (let port = from; port <= to; port++) {
    if (claimedPorts.has(port)) continue;
    claimedPorts.add(port);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
    claimedPorts.delete(port);
  }
  throw new StepError(`no free migration port on ${host.name} between ${from} and ${to}`);
}

/** Links every regular file of the source folder (but the per-process ones) into the target folder. */
export async function linkGuestFolder(t: Transport, from: string, to: string, signal?: AbortSignal): Promise<string[]> {
  const listed = await must(t, ["find", from, "-type", "f", "-printf", "%P\\n"], "listing the guest's files", signal);
  const files = listed.stdout.split("\n").filter((f) => f && !perProcess.has(f));
  for (const rel of files) {
    if (rel.split("/").includes("..")) continue;
    const dest = path.join(to, rel);
    await must(t, ["mkdir", "-p", path.dirname(dest)], "creating the target folder", signal);
    const linked = await t.run(["ln", "-f", path.join(from, rel), dest], { signal });
    if (linked.code !== 0) {
      throw new StepError(`the two hosts do not share storage (cannot link ${rel} into ${to}: ${linked.stderr.trim()}); live migration needs the guest's disk on both hosts`);
    }
  }
  return files;
}

/** Quits the destination QEMU (if any) and removes the target folder; the source is untouched. */
async function abandonTarget(t: Transport, dir: string, network: GuestNetwork | null, sourceNetwork: GuestNetwork | null): Promise<void> {
  const pid = await guestPid(t, dir);
  if (pid !== null) {
    await withQmp(t, guestFiles(dir).qmp, (q) => q.execute("quit")).catch(() => undefined);
    for (let i = 0; i < 50 && (await guestPid(t, dir)) !== null; i++) await sleep(100);
    const still = await guestPid(t, dir);
    if (still !== null) await t.run(["kill", "-KILL", String(still)]);
  }
  // Taps of the target's namespace (a different namespace from the source's: they are the target's own).
  if (network?.mode === "bridge" && !(sourceNetwork?.mode === "bridge" && sourceNetwork.netns === network.netns)) {
    await removeGuestTaps(t, network.netns, network.taps).catch(() => undefined);
  }
  await t.run(["rm", "-rf", dir]);
}

/** The migration, as the QEMU driver's `migrate`. */
export async function migrateGuest(driver: MigratableDriver, spec: DeploySpec, target: Host, io: MigrateIo): Promise<MigrationResult> {
  if (target.kind !== "qemu") throw new StepError(`${target.name} is a ${target.kind} host, not a QEMU host`);
  if (target.id === spec.host.id) throw new StepError(`${spec.hostname} already runs on ${target.name}`);
  // Both ends on this machine: the hosts share storage (hard links) and one loopback. Hosts
  // reached over SSH have neither guarantee, so they are refused before anything is touched.
  const remote = [spec.host, target].filter((h) => h.address !== LOCAL_HOST);
  if (remote.length) {
    throw new StepError(
      `live migration runs between QEMU hosts of the portal's own machine (address local) in this version; ${remote.map((h) => `${h.name} is reached over SSH (${h.address})`).join(" and ")}, so ${spec.hostname} stays on ${spec.host.name}`,
    );
  }
  const t = new LocalTransport();
  try {
    return await migrateLocal(t, driver, spec, target, io);
  } finally {
    await t.close();
  }
}

async function migrateLocal(t: Transport, driver: MigratableDriver, spec: DeploySpec, target: Host, io: MigrateIo): Promise<MigrationResult> {
  const src = guestFiles(guestDir(spec, spec.host));
  const dst = guestFiles(guestDir(spec, target));
  const srcNetwork = readNetwork(await t.readFile(path.join(src.dir, "network.json")));

  // Redelivered after a crash: what does each host run now?
  const [srcState, dstState] = await Promise.all([queryGuest(t, src.dir), queryGuest(t, dst.dir)]);
  if (!srcState && dstState?.running) {
    await io.log(`${spec.hostname} already runs on ${target.name} (QEMU pid ${dstState.pid}); the migration had finished`);
    const saved = await t.readFile(path.join(dst.dir, "migration.json"));
    return saved ? (JSON.parse(saved.toString("utf8")) as MigrationResult) : { mode: "live", totalMs: 0, downtimeMs: null, transferredBytes: null };
  }
  if (!srcState) throw new StepError(`${spec.hostname} is not running on ${spec.host.name}; only a running guest can be migrated live`);
  if (dstState?.running && !srcState.running) {
    // QEMU finished the move on its own while no worker watched (it streams without us): finish it.
    const q = await withQmp(t, src.qmp, (c) => c.execute<QueryMigrate>("query-migrate")).catch(() => ({}) as QueryMigrate);
    await io.log(`${spec.hostname} already runs on ${target.name} and is ${srcState.status} on ${spec.host.name}: the migration completed; finishing it`);
    const measured: MigrationResult = { mode: "live", totalMs: q["total-time"] ?? 0, downtimeMs: q.downtime ?? null, transferredBytes: q.ram?.transferred ?? null };
    const dstNetwork = readNetwork(await t.readFile(path.join(dst.dir, "network.json"))) ?? { mode: "user", why: "unknown" };
    return finishOnTarget(t, spec, target, { src: src.dir, dst: dst.dir, srcNetwork, dstNetwork, dstPid: dstState.pid }, measured, io);
  }
  if (srcState.status !== "running") {
    if (srcState.status === "postmigrate" || srcState.status === "paused") {
      await withQmp(t, src.qmp, (q) => q.execute("cont")).catch(() => undefined);
      await io.log(`${spec.hostname} was ${srcState.status} on ${spec.host.name} after an earlier attempt; resumed it`);
    } else {
      throw new StepError(`${spec.hostname} is ${srcState.status} on ${spec.host.name}, not running; it cannot be migrated live`);
    }
  }
  if (dstState) {
    await io.log(`a QEMU for ${spec.hostname} from an earlier attempt is on ${target.name} (${dstState.status}); removing it`);
  }
  const dstNetworkBefore = readNetwork(await t.readFile(path.join(dst.dir, "network.json")));
  await abandonTarget(t, dst.dir, dstNetworkBefore, srcNetwork);

  let dstNetwork: GuestNetwork | null = null;
  // Once the guest runs on the target, a later error must not remove it there.
  let switched = false;
  try {
    // 1. The target folder and network.
    await io.progress(2, `preparing ${target.name}: linking the guest's disk and boot files`);
    const files = await linkGuestFolder(t, src.dir, dst.dir, io.signal);
    await io.log(`linked ${files.length} files into ${dst.dir} (shared storage: ${files.filter((f) => f.endsWith(".qcow2")).join(", ")})`);
    dstNetwork = await driver.prepareNetwork(t, spec, target, io);
    await t.writeFile(path.join(dst.dir, "network.json"), JSON.stringify(dstNetwork));

    // 2. The destination QEMU, waiting for the guest's state.
    const viaUnix = dstNetwork.mode === "bridge" || srcNetwork?.mode === "bridge";
    const { plan } = await driver.plan(t, spec, target);
    const netns = dstNetwork.mode === "bridge" ? dstNetwork.netns : null;
    // A TCP port found free may be taken before QEMU binds it (another migration starting at
    // the same time): the next free one is tried.
    let incoming = "";
    let dstPid = 0;
    for (let attempt = 1; ; attempt++) {
      const port = viaUnix ? null : await freePort(target);
      incoming = port === null ? `unix:${path.join(dst.dir, "migrate.sock")}` : `tcp:127.0.0.1:${port}`;
      const dstPlan: QemuPlan = { ...plan, incoming };
      await t.writeFile(dst.plan, JSON.stringify(dstPlan, null, 2));
      await io.log(`${netns ? `ip netns exec ${netns} ` : ""}${qemuArgv(dstPlan).join(" ")}`);
      try {
        dstPid = await launchGuest(t, dstPlan, { netns, signal: io.signal });
        break;
      } catch (err) {
        const message = (err as Error).message;
        if (port !== null && attempt < 5 && /Address already in use/.test(message)) {
          await io.log(`port ${port} on ${target.name} was taken meanwhile; trying another`);
          continue;
        }
        throw new StepError(`the destination QEMU on ${target.name} did not start: ${message}`);
      } finally {
        if (port !== null) releasePort(port);
      }
    }
    const dstStatus = await withQmp(t, dst.qmp, (q) => q.execute<{ status: string }>("query-status"));
    if (dstStatus.status !== "inmigrate") throw new StepError(`the destination QEMU on ${target.name} is ${dstStatus.status}, not waiting for the guest`);
    await io.progress(5, `destination QEMU pid ${dstPid} on ${target.name} waits on ${incoming}`);

    // 3. Migrate, following query-migrate.
    const result = await withQmp(t, src.qmp, async (qmp) => {
      // Set every time: QEMU keeps the last value of an earlier attempt.
      const bandwidth = (target.config as QemuMigrationConfig).migrationMaxBandwidth;
      await qmp.execute("migrate-set-parameters", { "max-bandwidth": bandwidth ?? defaultMaxBandwidth });
      if (bandwidth) await io.log(`migration bandwidth capped at ${bandwidth} bytes/s (host config migrationMaxBandwidth)`);
      // An earlier attempt's stream (its destination is gone now) must have ended first.
      for (let i = 0; i < 50; i++) {
        const prior = await qmp.execute<QueryMigrate>("query-migrate");
        if (!prior.status || !["setup", "active", "pre-switchover", "device", "cancelling"].includes(prior.status)) break;
        if (i === 0) await qmp.execute("migrate_cancel").catch(() => undefined);
        await sleep(200);
      }
      await qmp.execute("migrate", { uri: incoming });
      const deadline = Date.now() + migrationTimeoutMs;
      let lastPercent = -1;
      for (;;) {
        if (io.signal.aborted) {
          await qmp.execute("migrate_cancel").catch(() => undefined);
          throw new StepError("the worker is shutting down; migration cancelled");
        }
        const q = await qmp.execute<QueryMigrate>("query-migrate");
        if (q.status === "completed") return q;
        if (q.status === "failed" || q.status === "cancelled") {
          throw new StepError(`QEMU reports the migration ${q.status}${q["error-desc"] ? `: ${q["error-desc"]}` : ""}`);
        }
        if (Date.now() > deadline) {
          await qmp.execute("migrate_cancel").catch(() => undefined);
          throw new StepError(`the migration did not finish within ${migrationTimeoutMs / 1000} s; cancelled`);
        }
        const ram = q.ram;
        if (ram?.total) {
          const percent = 5 + Math.floor((90 * Math.min(ram.total, Math.max(0, ram.total - (ram.remaining ?? ram.total)))) / ram.total);
          if (percent !== lastPercent) {
            lastPercent = percent;
            await io.progress(percent, `${q.status}: ${mib(ram.transferred ?? 0)} transferred, ${mib(ram.remaining ?? 0)} of ${mib(ram.total)} memory left`);
          }
        }
        await sleep(pollMs);
      }
    });

    // 4. The guest runs on the target: check, then let go of the source. The source reports
    // "completed" when it has sent the last pages; the destination may still be loading them
    // for a moment ("inmigrate"), more so on a busy machine under TCG.
    const after = await withQmp(t, dst.qmp, async (q) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const status = await q.execute<{ status: string; running: boolean }>("query-status");
        if (status.status !== "inmigrate" || Date.now() > deadline) return status;
        await sleep(pollMs);
      }
    });
    if (!after.running) throw new StepError(`after the migration the guest on ${target.name} is ${after.status}, not running`);
    const measured: MigrationResult = {
      mode: "live",
      totalMs: result["total-time"] ?? 0,
      downtimeMs: result.downtime ?? null,
      transferredBytes: result.ram?.transferred ?? null,
    };
    switched = true;
    return await finishOnTarget(t, spec, target, { src: src.dir, dst: dst.dir, srcNetwork, dstNetwork, dstPid }, measured, io);
  } catch (err) {
    if (switched) throw err;
    const why = err instanceof Error ? err.message : String(err);
    await io.log(`migration failed: ${why}; removing the destination on ${target.name}`);
    await abandonTarget(t, dst.dir, dstNetwork, srcNetwork).catch(() => undefined);
    const state = await queryGuest(t, src.dir);
    if (state && (state.status === "postmigrate" || state.status === "paused" || state.status === "finish-migrate")) {
      await withQmp(t, src.qmp, (q) => q.execute("cont")).catch(() => undefined);
    }
    const now = await queryGuest(t, src.dir);
    const where = now?.running ? `${spec.hostname} keeps running on ${spec.host.name}` : `${spec.hostname} is ${now ? now.status : "not running"} on ${spec.host.name}`;
    if (err instanceof StepError) throw new StepError(`live migration to ${target.name} failed: ${err.message.replace(/^live migration to \S+ failed: /, "")}; ${where}`);
    throw new StepError(`live migration to ${target.name} failed: ${why}; ${where}`);
  }
}

/**
 * The guest runs on the target: record what the move measured, quit the paused source, cap
 * the new process's CPU and remove the source's taps, cgroup and folder. Past the switch,
 * a clean-up that fails is logged, never undone: the guest lives on the target now.
 */
async function finishOnTarget(
  t: Transport,
  spec: DeploySpec,
  target: Host,
  at: { src: string; dst: string; srcNetwork: GuestNetwork | null; dstNetwork: GuestNetwork; dstPid: number },
  measured: MigrationResult,
  io: MigrateIo,
): Promise<MigrationResult> {
  const note = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      await io.log(`after the move: ${what} failed (${err instanceof Error ? err.message : err}); the guest runs on ${target.name}`);
    }
  };
  await note("saving the measurements", () => t.writeFile(path.join(at.dst, "migration.json"), JSON.stringify(measured)));
  await io.progress(96, `${spec.hostname} runs on ${target.name}; stopping the paused source on ${spec.host.name}`);
  await note("stopping the source QEMU", async () => {
    await withQmp(t, guestFiles(at.src).qmp, (q) => q.execute("quit")).catch(() => undefined);
    for (let i = 0; i < 100 && (await guestPid(t, at.src)) !== null; i++) await sleep(100);
    const left = await guestPid(t, at.src);
    if (left !== null) await t.run(["kill", "-KILL", String(left)]);
  });
  const cap = spec.flavor.cpuCap ?? spec.flavor.vcpus;
  await note("capping the CPU", async () => {
    const capped = await capCpu(t, cgroupName(hostKey(target), spec.hostname), at.dstPid, cap);
    await io.log(capped.applied ? `CPU capped at ${cap} on ${target.name}: ${capped.how}` : `no CPU quota on ${target.name}: ${capped.why}`);
  });
  await note("removing the source's cgroup", () => removeCgroup(t, cgroupName(hostKey(spec.host), spec.hostname)));
  const { srcNetwork, dstNetwork } = at;
  if (srcNetwork?.mode === "bridge" && !(dstNetwork.mode === "bridge" && dstNetwork.netns === srcNetwork.netns)) {
    await note("removing the source's taps", () => removeGuestTaps(t, srcNetwork.netns, srcNetwork.taps));
  }
  await note("removing the source folder", () => t.run(["rm", "-rf", at.src, stagingDir(spec)]));
  await io.log(
    `live migration done in ${measured.totalMs} ms, downtime ${measured.downtimeMs ?? "?"} ms, ${mib(measured.transferredBytes ?? 0)} transferred; source removed from ${spec.host.name}`,
  );
  return measured;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
