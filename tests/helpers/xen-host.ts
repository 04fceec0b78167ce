/**
 * A real Xen host for tests: the image of `npm run xen:build` (scripts/xen/) booted under
 * QEMU with software emulation (TCG, `-cpu qemu64`: `-cpu max` crashes dom0), on a thin
 * overlay of its qcow2 base, with a second disk for the guests' volume group (made by dom0's
 * init on first boot), bridges for the service and production networks in dom0 (each with
 * the network's gateway address, so dom0 reaches its guests), and dom0's sshd on a loopback
 * port (QEMU's user network). `bootXenHost` waits for dom0's PORTAL-DOM0-READY line on the
 * serial console; `stop` kills QEMU and removes every file of the run.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureXenImage, findXenImage, type XenImage } from "../../scripts/xen/image";

export type XenHost = {
  image: XenImage;
  sshPort: number;
  sshUser: string;
  privateKey: string;
  /** Seconds from QEMU's start to dom0's ready line. */
  bootSeconds: number;
  /** Everything dom0 and Xen printed on the serial console so far. */
  console: () => string;
  stop: () => Promise<void>;
};

/**
 * The Xen image for the current inputs, built when missing and we may (root), else null with
 * the reason (the test then skips, printing it).
 */
export async function xenImageForTests(): Promise<{ image: XenImage | null; reason: string }> {
  try {
    const found = await findXenImage();
    if (found) return { image: found, reason: "" };
    if (process.getuid?.() !== 0) return { image: null, reason: "the Xen test host image is not built and building it needs root: run `npm run xen:build` as root" };
    const built = await ensureXenImage((line) => console.log(line));
    return { image: built, reason: "" };
  } catch (err) {
    return { image: null, reason: `the Xen test host image could not be built: ${err instanceof Error ? err.message : err}` };
  }
}

export type XenHostOptions = {
  sshPort: number;
  /** Bridges in dom0: name and dom0's address on it with its prefix, e.g. ["xenbr0", "10.20.0.1/24"]. */
  bridges: [string, string][];
  volumeGroup?: string;
  /** QEMU's memory and dom0's share of it (MiB); the rest is for guests. */
  memoryMb?: number;
  dom0MemoryMb?: number;
  vgDiskGb?: number;
  bootTimeoutMs?: number;
};

export async function bootXenHost(image: XenImage, opts: XenHostOptions): Promise<XenHost> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "portal-xen-"));
  const key = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "portal-xen-test", "-f", key]);
  const overlay = path.join(dir, "dom0.qcow2");
  const vgDisk = path.join(dir, "vg.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", path.join(image.dir, "dom0.qcow2"), overlay]);
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", vgDisk, `${opts.vgDiskGb ?? 40}G`]);
  const dom0Mb = opts.dom0MemoryMb ?? 768;
  const cmdline = [
    "console=hvc0",
    "earlyprintk=xen",
    `portal.vg=${opts.volumeGroup ?? "vg0"}`,
    `portal.bridges=${opts.bridges.map(([b, cidr]) => `${b}=${cidr}`).join("+")}`,
    `portal.key=${Buffer.from(readFileSync(`${key}.pub`, "utf8").trim()).toString("base64")}`,
  ].join(" ");
  const args = [
    "-accel", "tcg", "-cpu", "qemu64", "-m", String(opts.memoryMb ?? 3072), "-smp", "2",
    "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", path.join(image.dir, "xen"),
    "-append", `dom0_mem=${dom0Mb}M,max:${dom0Mb}M console=com1 com1=115200 loglvl=all guest_loglvl=all noreboot`,
    // Multiboot modules, comma-separated: dom0's kernel with its command line, then its initramfs.
    "-initrd", `${path.join(image.dir, "vmlinuz")} ${cmdline},${path.join(image.dir, "dom0-initrd.gz")}`,
    "-drive", `file=${overlay},if=virtio,format=qcow2`,
    "-drive", `file=${vgDisk},if=virtio,format=qcow2`,
    "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${opts.sshPort}-:22`, "-device", "virtio-net-pci,netdev=n0",
  ];
  const started = Date.now();
  const qemu: ChildProcess = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  qemu.stdout!.on("data", (d) => (out += d.toString().replace(/\r/g, "")));
  qemu.stderr!.on("data", (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => qemu.on("exit", (code) => resolve(code)));

  const stop = async () => {
    if (qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill("SIGTERM");
      const timer = setTimeout(() => qemu.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const timeoutMs = opts.bootTimeoutMs ?? 360_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/^PORTAL-DOM0-READY /m.test(out)) done(null);
        else if (qemu.exitCode !== null || qemu.signalCode !== null) done(new Error(`QEMU exited before dom0 was ready:\n${out.slice(-3000)}`));
        else if (Date.now() - started > timeoutMs) done(new Error(`dom0 printed no ready line within ${timeoutMs / 1000} s:\n${out.slice(-3000)}`));
      }, 250);
      const done = (err: Error | null) => {
        clearInterval(timer);
        if (err) reject(err);
        else resolve();
      };
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    image,
    sshPort: opts.sshPort,
    sshUser: "root",
    privateKey: readFileSync(key, "utf8"),
    bootSeconds: (Date.now() - started) / 1000,
    console: () => out,
    stop,
  };
}
