import path from "node:path";

/**
 * The QEMU command line of a guest, built from validated parts only (no shell: an argument
 * vector). Used by the driver's boot and start, and by live migration, which runs the same
 * line on the target plus `-incoming`.
 */

/** One virtio NIC: the MAC the portal allocated and how it reaches the host's network. */
export type QemuNic =
  /** A persistent tap device (created by netns.ts on the host's bridge). */
  | { mac: string; tap: string }
  /** QEMU's user-mode network: no root needed, the guest is not reachable from the host. */
  | { mac: string; tap: null };

export type QemuPlan = {
  /** The guest's hostname (validated like an order name). */
  name: string;
  /** The guest's folder on the host: disk, initrd, sockets, logs, pidfile. */
  dir: string;
  vcpus: number;
  memoryMb: number;
  kernel: string;
  initrd: string;
  /** Kernel command line. */
  append: string;
  disk: string;
  nics: QemuNic[];
  /**
   * Accelerator: "tcg" (software, the default: works everywhere, and a /dev/kvm that exists
   * but cannot run guests, as in some containers, hangs the guest silently) or "kvm" where the
   * host config says it works.
   */
  accel?: "tcg" | "kvm";
  /** Live migration target: `tcp:HOST:PORT` or `unix:PATH` to receive the guest's state instead of booting. */
  incoming?: string;
};

/** File names inside a guest's folder. */
export function guestFiles(dir: string) {
  return {
    dir,
    disk: path.join(dir, "disk.qcow2"),
    initrd: path.join(dir, "initrd.gz"),
    glue: path.join(dir, "glue.cpio.gz"),
    kernel: path.join(dir, "vmlinuz"),
    qmp: path.join(dir, "qmp.sock"),
    serialSock: path.join(dir, "serial.sock"),
    serialLog: path.join(dir, "serial.log"),
    consoleSock: path.join(dir, "console.sock"),
    pidfile: path.join(dir, "qemu.pid"),
    plan: path.join(dir, "plan.json"),
  };
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const NAME = /^[a-z][a-z0-9-]{1,62}$/;
const TAP = /^[a-z][a-z0-9-]{0,14}$/;
// QEMU's option syntax splits on commas (a literal comma is doubled): paths we pass have none.
const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;
// tcp:HOST:PORT, or unix:PATH (bridged hosts each have their own namespace and loopback).
const INCOMING = /^(tcp:[0-9a-zA-Z.:-]+:[0-9]{1,5}|unix:\/[A-Za-z0-9._/+-]+)$/;

function checkPath(p: string, what: string): string {
  if (!SAFE_PATH.test(p) || p.split("/").includes("..")) throw new Error(`unsafe ${what} path for QEMU: ${JSON.stringify(p)}`);
  return p;
}

/**
 * `qemu-system-x86_64` argv for `plan`: q35 under TCG (KVM only where the host's config
 * asks for it), memory and vCPUs from the flavor, direct kernel boot,
 * the overlay disk on virtio, a virtio RNG, one virtio-net NIC per network with the allocated MAC, QMP and
 * the serial console on unix sockets in the guest's folder (the console also logged to a
 * file), a second serial port for the owner's interactive console, no display, daemonized with a pidfile so the guest outlives the worker.
 */
export function qemuArgv(plan: QemuPlan): string[] {
  if (!NAME.test(plan.name)) throw new Error(`invalid guest name ${JSON.stringify(plan.name)}`);
  if (!Number.isInteger(plan.vcpus) || plan.vcpus < 1 || plan.vcpus > 64) throw new Error(`invalid vCPU count ${plan.vcpus}`);
  if (!Number.isInteger(plan.memoryMb) || plan.memoryMb < 64 || plan.memoryMb > 1_048_576) throw new Error(`invalid memory ${plan.memoryMb} MiB`);
  if (/[\0\n]/.test(plan.append)) throw new Error("invalid kernel command line");
  const f = guestFiles(checkPath(plan.dir, "guest folder"));
  const argv = [
    "qemu-system-x86_64",
    "-name", `guest=${plan.name}`,
    "-machine", `q35,accel=${plan.accel ?? "tcg"}`,
    "-m", String(plan.memoryMb),
    "-smp", String(plan.vcpus),
    "-kernel", checkPath(plan.kernel, "kernel"),
    "-initrd", checkPath(plan.initrd, "initrd"),
    "-append", plan.append,
    "-drive", `file=${checkPath(plan.disk, "disk")},if=virtio,format=qcow2,cache=writeback`,
    // Entropy from the host: the guest's SSH server would otherwise wait at boot for its random pool.
    "-device", "virtio-rng-pci",
  ];
  plan.nics.forEach((nic, i) => {
    if (!MAC.test(nic.mac)) throw new Error(`invalid MAC ${JSON.stringify(nic.mac)}`);
    if (nic.tap !== null && !TAP.test(nic.tap)) throw new Error(`invalid tap name ${JSON.stringify(nic.tap)}`);
    argv.push(
      "-netdev", nic.tap === null ? `user,id=n${i}` : `tap,id=n${i},ifname=${nic.tap},script=no,downscript=no`,
      "-device", `virtio-net-pci,netdev=n${i},mac=${nic.mac}`,
    );
  });
  argv.push(
    "-qmp", `unix:${f.qmp},server=on,wait=off`,
    "-chardev", `socket,id=ser0,path=${f.serialSock},server=on,wait=off,logfile=${f.serialLog}`,
    "-serial", "chardev:ser0",
    // The owner's console: the guest's second serial port (ttyS1) runs a login shell. Kept apart
    // from ttyS0, which carries the boot log and the ready line the driver reads.
    "-chardev", `socket,id=con0,path=${f.consoleSock},server=on,wait=off`,
    "-serial", "chardev:con0",
    "-display", "none",
    "-monitor", "none",
    "-no-reboot",
    "-daemonize",
    "-pidfile", f.pidfile,
  );
  if (plan.incoming !== undefined) {
    if (!INCOMING.test(plan.incoming)) throw new Error(`invalid migration address ${JSON.stringify(plan.incoming)}`);
    argv.push("-incoming", plan.incoming);
  }
  return argv;
}
