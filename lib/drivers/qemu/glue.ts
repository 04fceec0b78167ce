/**
 * The guest contract between the portal's QEMU Linux image (lib/drivers/images) and the QEMU driver.
 *
 * Golden artifacts, per image slug, in the image store (IMAGE_STORE_DIR, default
 * DATA_DIR/images): `golden/<slug>/vmlinuz`, `initramfs.cpio.gz`, `disk.qcow2` and
 * `manifest.json` = { slug, kernelVersion, recipeHash, builtAt, files: { name: { sha256, size } } }.
 * The driver does not read them directly: lib/drivers/images/pipeline.ts resolveImage / packImage /
 * unpackImage hand it the environment's own kernel, initramfs and disk (GuestArtifacts).
 *
 * Glue: `buildGlueArchive(...)` below makes a gzip'd newc cpio holding
 *   /portal/config           lines `hostname NAME`, `nic MAC IP/PREFIX GATEWAY|-`, `service-ip IP [MAC]`
 *                            (a service IP goes as /32 on the NIC with that MAC: the guest's NIC of its network),
 *                            `image SLUG VERSION` (the catalog image's version the guest is built from)
 *   /portal/authorized_keys  the owner's key (empty file when none)
 *   /portal/motd             names the order
 * The driver writes the guest's initrd as golden initramfs bytes followed by these bytes (the
 * kernel unpacks concatenated cpio archives, later files win).
 *
 * Boot: kernel command line `guestKernelAppend`; disk as virtio (/dev/vda); NICs virtio-net
 * with the given MACs; the console is ttyS0 (the first serial port).
 *
 * Init (/init, busybox sh) loads virtio_ring, virtio, virtio_pci_legacy_dev,
 * virtio_pci_modern_dev, virtio_pci, failover, net_failover, virtio_net, virtio_blk,
 * virtio-rng, crc16, mbcache, crc32c_generic, jbd2, ext4, button, evdev; mounts proc, sys,
 * dev, devpts; sets the hostname; configures each NIC found by its MAC (address up, default
 * route via the first NIC with a gateway); puts service IPs as /32 on the NIC their MAC names
 * (on the default route's NIC when none is named); installs
 * authorized_keys to /root/.ssh and the motd to /etc/motd; mounts the disk at /data (ext4,
 * made at first boot when the disk is blank, never over other data; grown to the disk first when
 * a resize made the disk bigger, saying `portal-init: /data grown from A to B bytes`); starts Dropbear on port
 * 22 (keys only, root may log in) with an ed25519 host key made at first boot and kept on
 * /data; prints progress lines `portal-init: ...` and then, once the SSH server listens (or
 * after 10 s of waiting for it), exactly one line
 *   PORTAL-READY hostname=<h> uptime=<seconds> disk=<bytes of /dev/vda or 0> data=<bytes of the filesystem at /data, 0 when none>
 *     ssh=<22, or down> ssh-hostkey=<SHA256:... fingerprint> nic=<mac>,<ip>/<prefix> ... [service-ip=<ip> ...]
 * (on one line; nics in config order) on the console. It keeps running: a console line containing `status`
 * gets a fresh PORTAL-READY line with the current uptime (so it can be seen to grow, e.g.
 * across a live migration). The ACPI power button (QMP `system_powerdown`) makes it print
 * `portal-init: power button: powering off`, sync, unmount /data and power off; a driver
 * still quits QEMU after a timeout. For `status` the driver must connect the serial port to
 * something writable (e.g. `-chardev socket,id=ser0,path=serial.sock,server=on,wait=off,logfile=serial.log -serial chardev:ser0`).
 * The host needs `-device virtio-rng-pci`, or the SSH server waits at boot for entropy.
 * While it runs, a console line `service-ip add|del IP MAC TAG` puts a service IP on (announced
 * with gratuitous ARP) or takes it off the NIC with that MAC; the guest answers with one line
 * `PORTAL-SERVICE-IP TAG ok ...` or `PORTAL-SERVICE-IP TAG failed <why>` (images before service
 * IPs moved do not answer).
 * Images since the console print nothing more: they run a root login shell on the second
 * serial port (ttyS1), which the driver connects to `console.sock` for the owner's console.
 *
 * Guests of images built before the SSH server and /data came print no `data`, `ssh` or
 * `ssh-hostkey`; their ready line is read as before.
 */
import { gzipCpio, type CpioEntry } from "../images/cpio";
import { slugPattern } from "../images/store";
import type { GuestAccount, GuestRecipe, GuestSettings } from "../types";
import {
  accountNamePattern, envNamePattern, envValuePattern, joinableReservedGroups, reservedAccountNames, sshKeyLinePattern, sysctlKeyPattern, sysctlValuePattern,
} from "../../validation/guest-settings";

/**
 * `no_timer_check`: under software emulation on a busy host the kernel's early check of the
 * timer interrupt can miss its window and panic ("IO-APIC + timer doesn't work!"); the check
 * proves nothing about a virtual timer, so it is skipped, as cloud images do.
 */
export const guestKernelAppend = "console=ttyS0 quiet panic=-1 no_timer_check";

/** The ready marker's first word; `parseReadyLine` reads the whole line. */
export const readyMarker = "PORTAL-READY";
/** What the driver writes to the serial console to get a fresh PORTAL-READY line. */
export const statusCommand = "status\n";

export type GlueNic = { mac: string; ip: string; prefix: number; gateway: string | null; purpose: "service" | "production" | string };

export type GlueInput = {
  hostname: string;
  nics: GlueNic[];
  authorizedKeys: string | null;
  motd: string;
  /** Service IPs attached to the guest: an address alone (on the NIC with the default route) or with the MAC of its network's NIC. */
  serviceIps: (string | GlueServiceIp)[];
  /** The catalog image and the version of it the guest is built from (written to /etc/os-release-portal). */
  image?: { slug: string; version: number } | null;
  recipe?: GuestRecipe | null;
  accounts?: GuestAccount[];
  settings?: GuestSettings | null;
};

export type GlueServiceIp = { ip: string; mac: string };

const hostnamePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The text of /portal/config; every value is checked, since the guest's shell reads it. */
export function glueConfig(input: GlueInput): string {
  if (!hostnamePattern.test(input.hostname)) throw new Error(`glue: invalid hostname ${JSON.stringify(input.hostname)}`);
  const lines = [`hostname ${input.hostname}`];
  for (const nic of input.nics) {
    const mac = nic.mac.toLowerCase();
    if (!macPattern.test(mac)) throw new Error(`glue: invalid MAC ${JSON.stringify(nic.mac)}`);
    if (!ipv4Pattern.test(nic.ip)) throw new Error(`glue: invalid IP ${JSON.stringify(nic.ip)}`);
    if (!Number.isInteger(nic.prefix) || nic.prefix < 1 || nic.prefix > 32) throw new Error(`glue: invalid prefix ${nic.prefix}`);
    if (nic.gateway !== null && !ipv4Pattern.test(nic.gateway)) throw new Error(`glue: invalid gateway ${JSON.stringify(nic.gateway)}`);
    lines.push(`nic ${mac} ${nic.ip}/${nic.prefix} ${nic.gateway ?? "-"}`);
  }
  for (const entry of input.serviceIps) {
    const { ip, mac } = typeof entry === "string" ? { ip: entry, mac: null } : { ip: entry.ip, mac: entry.mac.toLowerCase() };
    if (!ipv4Pattern.test(ip)) throw new Error(`glue: invalid service IP ${JSON.stringify(ip)}`);
    if (mac !== null && !macPattern.test(mac)) throw new Error(`glue: invalid MAC ${JSON.stringify(mac)} for service IP ${ip}`);
    lines.push(mac ? `service-ip ${ip} ${mac}` : `service-ip ${ip}`);
  }
  if (input.image) {
    if (!slugPattern.test(input.image.slug)) throw new Error(`glue: invalid image slug ${JSON.stringify(input.image.slug)}`);
    if (!Number.isInteger(input.image.version) || input.image.version < 1) throw new Error(`glue: invalid image version ${input.image.version}`);
    lines.push(`image ${input.image.slug} ${input.image.version}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The glue archive (gzip'd newc cpio) the driver appends to the golden initramfs. */
export async function buildGlueArchive(input: GlueInput): Promise<Buffer> {
  const keys = (input.authorizedKeys ?? "").trim();
  if (/[\0\r]/.test(keys)) throw new Error("glue: authorized_keys holds control characters");
  const motd = input.motd.replace(/\r/g, "");
  const entries: CpioEntry[] = [
    { type: "dir", path: "portal", mode: 0o755 },
    { type: "file", path: "portal/config", data: glueConfig(input) },
    { type: "file", path: "portal/authorized_keys", data: keys ? `${keys}\n` : "", mode: 0o600 },
    { type: "file", path: "portal/motd", data: motd.endsWith("\n") ? motd : `${motd}\n` },
    ...accountEntries(input.accounts ?? []),
    ...settingsEntries(input.settings ?? null),
    ...(input.recipe ? recipeEntries(input.recipe) : []),
  ];
  return gzipCpio(entries);
}

/**
 * A second, small archive holding only a new /portal/config, appended after the glue (the
 * kernel unpacks concatenated archives in order, later files win): how a service IP that came
 * or went is kept for the next boot without rendering the order's recipe and secrets again.
 */
export async function buildConfigOverlay(input: GlueInput): Promise<Buffer> {
  return gzipCpio([
    { type: "dir", path: "portal", mode: 0o755 },
    { type: "file", path: "portal/config", data: glueConfig(input) },
  ]);
}

export { accountNamePattern, reservedAccountNames, sysctlKeyPattern, sysctlValuePattern, envNamePattern, envValuePattern };
const recipeFilePattern = /^\/(etc|srv|opt|var|data)(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,99}){1,8}$/;
const recipeSlugPattern = /^[a-z0-9][a-z0-9-]{0,40}$/;
const recipeVersionPattern = /^\d{1,4}(\.\d{1,4}){0,2}$/;

/** /etc/passwd and /etc/group lines for the order's accounts (each its own group, gid = uid; extra groups from 2000 on). */
export function renderAccounts(accounts: GuestAccount[]): { passwd: string; group: string } {
  const seen = new Set<string>();
  const groups = new Map<string, string[]>();
  const passwd: string[] = [];
  const group: string[] = [];
  for (const a of accounts) {
    if (!accountNamePattern.test(a.name) || reservedAccountNames.has(a.name)) throw new Error(`glue: invalid account name ${JSON.stringify(a.name)}`);
    if (seen.has(a.name)) throw new Error(`glue: account ${a.name} twice`);
    seen.add(a.name);
    if (!Number.isInteger(a.uid) || a.uid < 1000 || a.uid > 59999) throw new Error(`glue: invalid uid ${a.uid} for ${a.name}`);
    for (const line of a.sshKeys.split("\n").map((l) => l.trim()).filter(Boolean)) {
      if (!sshKeyLinePattern.test(line)) throw new Error(`glue: invalid SSH key for ${a.name}`);
    }
    passwd.push(`${a.name}:x:${a.uid}:${a.uid}::/data/home/${a.name}:/bin/sh`);
    group.push(`${a.name}:x:${a.uid}:`);
    for (const g of a.groups) {
      if (!accountNamePattern.test(g) || reservedAccountNames.has(g) && !joinableReservedGroups.has(g)) throw new Error(`glue: invalid group ${JSON.stringify(g)}`);
      groups.set(g, [...(groups.get(g) ?? []), a.name]);
    }
  }
  [...groups.keys()].sort().forEach((g, i) => {
    if (seen.has(g)) throw new Error(`glue: group ${g} has the name of an account`);
    group.push(`${g}:x:${2000 + i}:${groups.get(g)!.join(",")}`);
  });
  return { passwd: passwd.length ? `${passwd.join("\n")}\n` : "", group: group.length ? `${group.join("\n")}\n` : "" };
}

function accountEntries(accounts: GuestAccount[]): CpioEntry[] {
  if (accounts.length === 0) return [];
  const { passwd, group } = renderAccounts(accounts);
  return [
    { type: "dir", path: "portal/accounts", mode: 0o755 },
    { type: "dir", path: "portal/accounts/keys", mode: 0o755 },
    { type: "file", path: "portal/accounts/passwd", data: passwd },
    { type: "file", path: "portal/accounts/group", data: group },
    ...accounts.map((a): CpioEntry => ({ type: "file", path: `portal/accounts/keys/${a.name}`, data: a.sshKeys.trim() ? `${a.sshKeys.trim()}\n` : "", mode: 0o600 })),
  ];
}

/** The settings files: `key=value` lines, every name and value checked. */
export function renderSettings(settings: GuestSettings): { sysctl: string; env: string } {
  const sysctl = Object.entries(settings.sysctl).map(([k, v]) => {
    if (!sysctlKeyPattern.test(k)) throw new Error(`glue: invalid sysctl name ${JSON.stringify(k)}`);
    if (!sysctlValuePattern.test(v)) throw new Error(`glue: invalid value for sysctl ${k}`);
    return `${k}=${v}`;
  });
  const env = Object.entries(settings.env).map(([k, v]) => {
    if (!envNamePattern.test(k)) throw new Error(`glue: invalid variable name ${JSON.stringify(k)}`);
    if (!envValuePattern.test(v)) throw new Error(`glue: invalid value for ${k}`);
    return `${k}=${v}`;
  });
  return { sysctl: sysctl.length ? `${sysctl.join("\n")}\n` : "", env: env.length ? `${env.join("\n")}\n` : "" };
}

function settingsEntries(settings: GuestSettings | null): CpioEntry[] {
  if (!settings) return [];
  const { sysctl, env } = renderSettings(settings);
  const entries: CpioEntry[] = [{ type: "dir", path: "portal/settings", mode: 0o755 }];
  if (sysctl) entries.push({ type: "file", path: "portal/settings/sysctl", data: sysctl });
  if (env) entries.push({ type: "file", path: "portal/settings/env", data: env, mode: 0o600 });
  return entries.length > 1 ? entries : [];
}

/** Checks a rendered recipe: its name, version, time and file paths (the guest copies them onto /). */
export function checkRecipe(recipe: GuestRecipe): void {
  if (!recipeSlugPattern.test(recipe.slug)) throw new Error(`glue: invalid recipe name ${JSON.stringify(recipe.slug)}`);
  if (!recipeVersionPattern.test(recipe.version)) throw new Error(`glue: invalid recipe version ${JSON.stringify(recipe.version)}`);
  if (!Number.isInteger(recipe.timeoutSeconds) || recipe.timeoutSeconds < 1 || recipe.timeoutSeconds > 3600) throw new Error(`glue: invalid recipe time ${recipe.timeoutSeconds}`);
  for (const f of recipe.files) {
    if (!recipeFilePattern.test(f.path) || f.path.split("/").includes("..")) throw new Error(`glue: recipe file path not allowed: ${JSON.stringify(f.path)}`);
  }
}

function recipeEntries(recipe: GuestRecipe): CpioEntry[] {
  checkRecipe(recipe);
  const entries: CpioEntry[] = [
    { type: "dir", path: "portal/recipe", mode: 0o755 },
    { type: "file", path: "portal/recipe/name", data: `${recipe.slug} ${recipe.version} ${recipe.timeoutSeconds}\n` },
    { type: "file", path: "portal/recipe/setup", data: recipe.setup, mode: 0o755 },
    { type: "file", path: "portal/recipe/check", data: recipe.check, mode: 0o755 },
  ];
  const dirs = new Set<string>();
  for (const f of recipe.files) {
    const parts = f.path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `portal/recipe/files/${parts.slice(0, i).join("/")}`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ type: "dir", path: dir, mode: 0o755 });
      }
    }
  }
  if (recipe.files.length) entries.splice(4, 0, { type: "dir", path: "portal/recipe/files", mode: 0o755 });
  for (const f of recipe.files) entries.push({ type: "file", path: `portal/recipe/files${f.path}`, data: f.data, mode: f.mode ?? 0o644 });
  return entries;
}

export type ReadyReport = {
  hostname: string;
  uptimeSeconds: number;
  diskBytes: number;
  nics: { mac: string; ip: string; prefix: number }[];
  serviceIps: string[];
  /** Size of the filesystem on the disk at /data, 0 when none is mounted (absent from older images). */
  dataBytes?: number;
  /** The SSH server: its port, null when it does not listen, and its host key's fingerprint (absent from older images). */
  ssh?: { port: number | null; hostKey: string | null };
  /** The image version the guest says it was built from (absent from older images and from guests glued without one). */
  imageVersion?: number;
  /** The recipe the guest ran (`slug/version`) and how its check ended; absent without a recipe. */
  recipe?: { name: string; check: "ok" | "failed" | "setup-failed" | string };
  /** What the recipe's check reported (`app.key=value`). */
  app?: Record<string, string>;
  /** Accounts the order added, as the guest has them. */
  users?: string[];
  /** sysctl values as the guest reads them back (commas for spaces), and the names of the service's variables. */
  sysctl?: Record<string, string>;
  env?: string[];
};

/** Parses a `PORTAL-READY ...` console line (with or without text before it); null if it is not one. */
export function parseReadyLine(line: string): ReadyReport | null {
  const at = line.indexOf(`${readyMarker} `);
  if (at < 0) return null;
  const report: ReadyReport = { hostname: "", uptimeSeconds: NaN, diskBytes: 0, nics: [], serviceIps: [] };
  // The console echoes what is typed: a `status` asked for while the guest prints this line
  // ends up glued to its last word ("nic=...,10.20.0.3/24status").
  const echo = statusCommand.trim();
  const text = line.trimEnd().endsWith(echo) ? line.trimEnd().slice(0, -echo.length) : line;
  for (const word of text.slice(at + readyMarker.length + 1).trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === "hostname") report.hostname = value;
    else if (key === "uptime") report.uptimeSeconds = Number(value);
    else if (key === "disk") report.diskBytes = Number(value);
    else if (key === "data") report.dataBytes = Number(value) || 0;
    else if (key === "ssh") report.ssh = { hostKey: null, ...report.ssh, port: /^\d{1,5}$/.test(value) ? Number(value) : null };
    else if (key === "ssh-hostkey") report.ssh = { port: null, ...report.ssh, hostKey: /^SHA256:[A-Za-z0-9+/]{43}$/.test(value) ? value : null };
    else if (key === "service-ip") report.serviceIps.push(value);
    else if (key === "image-version" && /^\d{1,9}$/.test(value)) report.imageVersion = Number(value);
    else if (key === "recipe") report.recipe = { check: "", ...report.recipe, name: value };
    else if (key === "recipe-check") report.recipe = { name: "", ...report.recipe, check: value };
    else if (key.startsWith("app.")) report.app = { ...report.app, [key.slice(4)]: value };
    else if (key === "users") report.users = value.split(",").filter(Boolean);
    else if (key.startsWith("sysctl.")) report.sysctl = { ...report.sysctl, [key.slice(7)]: value };
    else if (key === "env") report.env = value.split(",").filter(Boolean);
    else if (key === "nic") {
      const m = value.match(/^([0-9a-f:]{17}),([\d.]+)\/(\d+)$/);
      if (m) report.nics.push({ mac: m[1]!, ip: m[2]!, prefix: Number(m[3]) });
    }
  }
  return report.hostname && Number.isFinite(report.uptimeSeconds) ? report : null;
}

/** The motd the glue installs: names the order, so a user who logs in knows where they are. */
export function glueMotd(input: { hostname: string; orderId: string; orderName?: string; owner?: string }): string {
  return [
    `${input.hostname}: delivered by the environment portal`,
    `Order ${input.orderName ? `${input.orderName} ` : ""}(${input.orderId})${input.owner ? ` for ${input.owner}` : ""}`,
    "",
  ].join("\n");
}
