import { createHash } from "node:crypto";
import { parseCidr, parseIp } from "../../net/ipv4";
import type { Transport } from "../transport/types";

/**
 * Guest networking on a QEMU host, checkable from the host side: per host a network
 * namespace (`portal-<host>-<hash of its work folder>`), in it one bridge per portal network carrying that network's
 * gateway address, and per guest NIC a persistent tap on its network's bridge. QEMU runs
 * inside the namespace with its taps, so `ip netns exec portal-<host> ping <guest ip>`
 * reaches the guest. Without root (or iproute2) the driver falls back to QEMU's user-mode
 * network and says so in the step log.
 *
 * Names come from validated identifiers only: the host's name (a slug) and IPv4 numbers in
 * hex, so interface names stay within Linux's 15 characters and need no quoting.
 */
const HOST_SLUG = /^[a-z0-9][a-z0-9-]{0,40}$/;

/**
 * The host's namespace: its name plus a short hash of its work folder, so two portals on one
 * machine (say `npm start` and the end-to-end server, both with a host "qemu-1") never share
 * bridges or taps, while the same host finds its namespace again after a restart.
 */
export function netnsName(host: HostRef): string {
  return `portal-${hostKey(host)}`;
}

type HostRef = { name: string; id: string; config?: Record<string, unknown> };

/** `<host name>-<6 hex of sha256(workDir)>`: names the host's namespace and its guests' cgroups. */
export function hostKey(host: HostRef): string {
  const base = HOST_SLUG.test(host.name) ? host.name : host.id.replace(/-/g, "").slice(0, 12);
  const workDir = typeof host.config?.workDir === "string" ? host.config.workDir : host.id;
  return `${base}-${createHash("sha256").update(workDir).digest("hex").slice(0, 6)}`;
}

const hex = (n: number) => n.toString(16).padStart(8, "0");

/** Bridge of a network inside the host's namespace: `pb` + the network address in hex (10 chars). */
export function bridgeName(cidr: string): string {
  return `pb${hex(parseCidr(cidr).network)}`;
}

/** Tap of a guest NIC: `pt` + the guest's IPv4 address in hex (10 chars), unique on the host. */
export function tapName(ip: string): string {
  return `pt${hex(parseIp(ip))}`;
}

export type NetworkMode = { kind: "bridge"; netns: string } | { kind: "user"; why: string };

/** Bridged networking needs root and iproute2 on the host; otherwise user-mode networking. */
export async function networkMode(t: Transport, host: { name: string; id: string; config: Record<string, unknown> }): Promise<NetworkMode> {
  if (host.config.network === "user") return { kind: "user", why: "the host is configured for user-mode networking (config.network = user)" };
  const id = await t.run(["id", "-u"]).catch(() => null);
  if (!id || id.code !== 0 || id.stdout.trim() !== "0") return { kind: "user", why: "the portal does not run as root on this host, so it cannot create bridges and taps" };
  const ip = await t.run(["ip", "-V"]).catch(() => null);
  if (!ip || ip.code !== 0) return { kind: "user", why: "iproute2 (`ip`) is not installed on this host" };
  const tun = await t.run(["test", "-c", "/dev/net/tun"]);
  if (tun.code !== 0) return { kind: "user", why: "/dev/net/tun is missing on this host" };
  return { kind: "bridge", netns: netnsName(host) };
}

async function ipCmd(t: Transport, argv: string[], what: string, signal?: AbortSignal) {
  const r = await t.run(["ip", ...argv], { timeoutMs: 15_000, signal });
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim() || `ip exit ${r.code}`}`);
  return r;
}

async function linkExists(t: Transport, netns: string, dev: string): Promise<boolean> {
  // No namespace, no iproute2: no such link either.
  const r = await t.run(["ip", "-n", netns, "link", "show", "dev", dev]).catch(() => null);
  return r?.code === 0;
}

/**
 * Brings up lo in the namespace once it can be entered. `ip netns add` lists the namespace
 * before it has bind-mounted it, so a second guest that found it listed can get "setting the
 * network namespace ... Invalid argument" for a moment: that answer is waited out (bounded).
 */
async function namespaceReady(t: Transport, netns: string, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ipCmd(t, ["-n", netns, "link", "set", "lo", "up"], "bringing up lo", signal);
      return;
    } catch (err) {
      const mounting = err instanceof Error && /setting the network namespace/.test(err.message);
      if (!mounting || attempt >= 40 || signal?.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export type NicPlan = { ip: string; mac: string; cidr: string; gateway: string; tap: string; bridge: string; purpose?: string };

/** The NICs of a guest as the host sees them. */
export function nicPlans(addresses: { ip: string; mac: string; cidr: string; gateway: string; purpose?: string }[]): NicPlan[] {
  return addresses.map((a) => ({ ...a, tap: tapName(a.ip), bridge: bridgeName(a.cidr) }));
}

/**
 * Creates something only if `exists` says it is missing. Two guests on one host configure
 * their networks at the same time and share the namespace and bridges: when creating fails
 * because the other one just did it ("File exists", "Address already assigned"), the second
 * look finds it there and that is success.
 */
async function ensure(exists: () => Promise<boolean>, create: () => Promise<unknown>): Promise<boolean> {
  if (await exists()) return false;
  try {
    await create();
    return true;
  } catch (err) {
    if (await exists()) return false;
    throw err;
  }
}

async function netnsExists(t: Transport, netns: string, signal?: AbortSignal): Promise<boolean> {
  const list = await ipCmd(t, ["netns", "list"], "listing network namespaces", signal);
  return list.stdout.split("\n").some((l) => l.split(/\s+/)[0] === netns);
}

async function hasAddress(t: Transport, netns: string, dev: string, cidrAddress: string, signal?: AbortSignal): Promise<boolean> {
  const addrs = await ipCmd(t, ["-n", netns, "-4", "-o", "addr", "show", "dev", dev], "reading bridge addresses", signal);
  return addrs.stdout.includes(` ${cidrAddress} `);
}

/**
 * Makes sure the namespace, the bridges with their gateway addresses and the guest's taps
 * exist and are up. Idempotent, and safe for two guests of one host at once: only what is
 * missing is created. Returns log lines saying what was created and what was already there.
 */
export async function ensureGuestNetwork(t: Transport, netns: string, nics: NicPlan[], signal?: AbortSignal): Promise<string[]> {
  const lines: string[] = [];
  if (await ensure(() => netnsExists(t, netns, signal), () => ipCmd(t, ["netns", "add", netns], `creating network namespace ${netns}`, signal))) {
    lines.push(`network namespace ${netns} created`);
  }
  await namespaceReady(t, netns, signal);
  for (const nic of nics) {
    const bridge = () => ipCmd(t, ["-n", netns, "link", "add", nic.bridge, "type", "bridge"], `creating bridge ${nic.bridge}`, signal);
    if (await ensure(() => linkExists(t, netns, nic.bridge), bridge)) lines.push(`bridge ${nic.bridge} for ${nic.cidr} created in ${netns}`);
    const gateway = `${nic.gateway}/${nic.cidr.split("/")[1]}`;
    const addGateway = () => ipCmd(t, ["-n", netns, "addr", "add", gateway, "dev", nic.bridge], `adding gateway ${nic.gateway} to ${nic.bridge}`, signal);
    if (await ensure(() => hasAddress(t, netns, nic.bridge, gateway, signal), addGateway)) lines.push(`gateway ${gateway} on ${nic.bridge}`);
    await ipCmd(t, ["-n", netns, "link", "set", nic.bridge, "up"], `bringing up ${nic.bridge}`, signal);
    const tap = () => ipCmd(t, ["-n", netns, "tuntap", "add", "dev", nic.tap, "mode", "tap"], `creating tap ${nic.tap}`, signal);
    lines.push(await ensure(() => linkExists(t, netns, nic.tap), tap) ? `tap ${nic.tap} created for ${nic.ip} (${nic.mac})` : `tap ${nic.tap} for ${nic.ip} already exists`);
    await ipCmd(t, ["-n", netns, "link", "set", nic.tap, "master", nic.bridge], `attaching ${nic.tap} to ${nic.bridge}`, signal);
    if (nic.purpose === "service") {
      // Every guest has a NIC on the service network, so guest-to-guest traffic there would join
      // networks kept apart: service ports are isolated (they reach the host's side, the gateway
      // and service IPs through it, never each other).
      await ipCmd(t, ["-n", netns, "link", "set", "dev", nic.tap, "type", "bridge_slave", "isolated", "on"], `isolating ${nic.tap} on ${nic.bridge}`, signal);
    }
    await ipCmd(t, ["-n", netns, "link", "set", nic.tap, "up"], `bringing up ${nic.tap}`, signal);
  }
  return lines;
}

/** Removes the guest's taps (the bridges stay for other guests). Idempotent. */
export async function removeGuestTaps(t: Transport, netns: string, taps: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const tap of taps) {
    if (await linkExists(t, netns, tap)) {
      await t.run(["ip", "-n", netns, "link", "del", "dev", tap]);
      removed.push(tap);
    }
  }
  return removed;
}

/** Removes the host's whole namespace (tests, host removal). */
export async function removeNetns(t: Transport, netns: string): Promise<void> {
  await t.run(["ip", "netns", "del", netns]);
}

/** Pings `ip` from inside the host's namespace (the gateway's side); true on an answer. */
export async function pingFromHost(t: Transport, netns: string, ip: string, count = 1): Promise<boolean> {
  parseIp(ip);
  // iputils ping where installed, else busybox's (busybox-static is among the test packages).
  const iputils = (await t.run(["test", "-x", "/usr/bin/ping"])).code === 0 || (await t.run(["test", "-x", "/bin/ping"])).code === 0;
  const ping = iputils ? ["ping"] : ["busybox", "ping"];
  const r = await t.run(["ip", "netns", "exec", netns, ...ping, "-c", String(count), "-W", "2", ip], { timeoutMs: 20_000 });
  return r.code === 0;
}
