/**
 * Emulated Xen dom0s and Solaris global zones behind real sshd servers: each host is an sshd on
 * loopback whose login user finds the test emulators (tests/emulators/bin: xl, LVM, zonecfg,
 * zoneadm, zfs, zlogin, ...) first on its PATH, with its own state directory. The emulators
 * are not the real tools; see their header comments.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { encryptHostSecret } from "@/lib/drivers/transport/secrets";
import { SshTransport } from "@/lib/drivers/transport/ssh";
import type { Transport } from "@/lib/drivers/transport/types";
import type { DeploySpec, HypervisorDriver, StepIo } from "@/lib/drivers/types";
import type { HostKind } from "@/lib/db/schema";
import { startSshd, type RunningSshd } from "./sshd";

export const emulatorBin = path.resolve(import.meta.dirname, "../emulators/bin");

export type EmulatedHost = {
  name: string;
  /** The name other emulated hosts reach this one by (peers.json, migration). */
  peerName: string;
  state: string;
  sshd: RunningSshd;
  host: DeploySpec["host"];
  transport: () => Transport;
};

const root = mkdtempSync(path.join(os.tmpdir(), "portal-emu-"));
chmodSync(root, 0o755);

function chownTree(dir: string, user: string) {
  if (process.getuid?.() !== 0) return;
  const [, , uid, gid] = execFileSync("getent", ["passwd", user], { encoding: "utf8" }).trim().split(":");
  execFileSync("chown", ["-R", `${uid}:${gid}`, dir]);
}

/** A host of `kind` on `port`; its settings (hosts.config) point the driver's paths into its state dir. */
export async function startEmulatedHost(opts: { name: string; kind: HostKind; port: number; sharedLvm?: string; config?: Record<string, unknown> }): Promise<EmulatedHost> {
  const state = path.join(root, opts.name);
  mkdirSync(state, { recursive: true });
  if (opts.sharedLvm) {
    mkdirSync(opts.sharedLvm, { recursive: true });
    symlinkSync(opts.sharedLvm, path.join(state, "lvm"));
  }
  const sshd = await startSshd({ port: opts.port, extraPath: [emulatorBin, path.dirname(process.execPath)], env: { EMU_STATE: state } });
  chownTree(root, sshd.user);
  const config =
    opts.kind === "xen"
      ? {
          configDir: `${state}/etc/xen`,
          mountDir: `${state}/mnt/portal`,
          imageDir: `${state}/images`,
          kernel: `${state}/images/vmlinuz`,
          ramdisk: `${state}/images/initrd.img`,
          migrationAddress: `${opts.name}.test`,
        }
      : {
          zonesRoot: `${state}/zones`,
          stageDir: `${state}/var/tmp/portal`,
          ipfConf: `${state}/etc/ipf/ipf.conf`,
          timezone: "Europe/Berlin",
          migrationAddress: `${opts.name}.test`,
          physicalByNetwork: { production: "e1000g1", service: "e1000g0" },
        };
  // The global zone's NICs: a zone whose net names another device does not boot.
  if (opts.kind === "zones") writeFileSync(path.join(state, "host.json"), JSON.stringify({ interfaces: ["e1000g0", "e1000g1"] }));
  const id = `00000000-0000-4000-8000-${String(opts.port).padStart(12, "0")}`;
  const target = { id, address: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeyFingerprint: sshd.hostKeyFingerprint };
  return {
    name: opts.name,
    peerName: `${opts.name}.test`,
    state,
    sshd,
    host: { id, name: opts.name, kind: opts.kind, address: sshd.host, config: { ...config, ...opts.config } },
    transport: () => new SshTransport(target),
  };
}

/** The portal's hosts row for an emulated host: active, reached over its sshd, room for a few guests. */
export function hostRowOf(h: EmulatedHost) {
  return {
    state: "active" as const, id: h.host.id, name: h.name, kind: h.host.kind, address: h.sshd.host, port: h.sshd.port, sshUser: h.sshd.user,
    sshPrivateKey: encryptHostSecret(h.host.id, h.sshd.privateKey), hostKeyFingerprint: h.sshd.hostKeyFingerprint,
    cpuCapacity: 8, memoryMbCapacity: 16384, diskGbCapacity: 500, config: h.host.config,
  };
}

/** Each host can reach the others by their peer names (xl migrate, zfs send | ssh). */
export function connectPeers(hosts: EmulatedHost[]) {
  for (const h of hosts) {
    const peers = Object.fromEntries(hosts.filter((o) => o !== h).map((o) => [o.peerName, o.state]));
    writeFileSync(path.join(h.state, "peers.json"), JSON.stringify(peers));
  }
}

export function sharedDir(name: string): string {
  return path.join(root, name);
}

export async function stopEmulatedHosts(hosts: (EmulatedHost | undefined)[]) {
  await Promise.all(hosts.map((h) => h?.sshd.stop()));
  rmSync(root, { recursive: true, force: true });
}

/** A StepIo that keeps the log lines for assertions. */
export function recordingIo() {
  const lines: string[] = [];
  const progress: string[] = [];
  return {
    lines,
    progress,
    io: {
      signal: new AbortController().signal,
      log: async (line: string) => {
        lines.push(line);
      },
      progress: async (percent: number, note: string) => {
        progress.push(`${percent}% ${note}`);
      },
    },
  };
}

/** Runs argv on an emulated host over SSH. */
export async function runOn(h: EmulatedHost, argv: string[], stdin?: string) {
  const t = h.transport();
  try {
    return await t.run(argv, stdin === undefined ? undefined : { stdin });
  } finally {
    await t.close();
  }
}

/** Runs argv on an emulated host and expects it to succeed (an admin's preparation of the host). */
export async function mustRun(h: EmulatedHost, argv: string[]) {
  const r = await runOn(h, argv);
  expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

/** What an admin prepares on a Xen host: the kernel and ramdisk, and the golden volume `golden` of an image when given. */
export async function prepareXenHost(h: EmulatedHost, golden?: string) {
  for (const f of ["vmlinuz", "initrd.img"]) await h.transport().writeFile(`${h.state}/images/${f}`, "kernel\n");
  if (!golden) return;
  await mustRun(h, ["lvcreate", "-L", "2G", "-n", golden, "vg0"]);
  await mustRun(h, ["mkfs.ext4", "-q", "-F", `/dev/vg0/${golden}`]);
}

/** What an admin prepares on a Solaris host: the zones dataset, and the installed, halted golden zone `golden` when given (whole-root: `create -b`). */
export async function prepareZonesHost(h: EmulatedHost, golden?: { name: string; wholeRoot?: boolean }) {
  await mustRun(h, ["zfs", "create", "-o", `mountpoint=${h.state}/zones`, "rpool/zones"]);
  if (!golden) return;
  const zp = `${h.state}/zones/${golden.name}`;
  await h.transport().writeFile(`${h.state}/${golden.name}.cfg`, `${golden.wholeRoot ? "create -b" : "create"}\nset zonepath=${zp}\nset autoboot=false\nverify\ncommit\n`);
  await mustRun(h, ["zonecfg", "-z", golden.name, "-f", `${h.state}/${golden.name}.cfg`]);
  await mustRun(h, ["zfs", "create", "-o", `mountpoint=${zp}`, `rpool/zones/${golden.name}`]);
  await mustRun(h, ["chmod", "700", zp]);
  await mustRun(h, ["zoneadm", "-z", golden.name, "install"]);
}

/** The mk_virtual steps a worker runs for a delivery, driver by driver, up to a ready guest. */
export async function provisionGuest(driver: HypervisorDriver, s: DeploySpec, io: StepIo) {
  for (const step of [driver.resolveImage, driver.packImage, driver.createStorage, driver.unpack, driver.configureNetwork, driver.glue, driver.boot, driver.waitReady]) {
    await step.call(driver, s, io);
  }
}
