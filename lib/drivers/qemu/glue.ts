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
 *   /portal/config           lines `hostname NAME`, `nic MAC IP/PREFIX GATEWAY|-`, `service-ip IP`,
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
 * route via the first NIC with a gateway); puts service IPs as /32 on that NIC; installs
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
 * Images since the console print nothing more: they run a root login shell on the second
 * serial port (ttyS1), which the driver connects to `console.sock` for the owner's console.
 *
 * Guests of images built before the SSH server and /data came print no `data`, `ssh` or
 * `ssh-hostkey`; their ready line is read as before.
 */
import { gzipCpio, type CpioEntry } from "../images/cpio";
import { slugPattern } from "../images/store";

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
  serviceIps: string[];
  /** The catalog image and the version of it the guest is built from (written to /etc/os-release-portal). */
  image?: { slug: string; version: number } | null;
};

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
  for (const ip of input.serviceIps) {
    if (!ipv4Pattern.test(ip)) throw new Error(`glue: invalid service IP ${JSON.stringify(ip)}`);
    lines.push(`service-ip ${ip}`);
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
  ];
  return gzipCpio(entries);
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
};

/** Parses a `PORTAL-READY ...` console line (with or without text before it); null if it is not one. */
export function parseReadyLine(line: string): ReadyReport | null {
  const at = line.indexOf(`${readyMarker} `);
  if (at < 0) return null;
  const report: ReadyReport = { hostname: "", uptimeSeconds: NaN, diskBytes: 0, nics: [], serviceIps: [] };
  for (const word of line.slice(at + readyMarker.length + 1).trim().split(/\s+/)) {
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
