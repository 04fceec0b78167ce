/**
 * Real QEMU hosts for integration tests: two hosts of kind qemu on this machine, each with
 * its own work folder under a short temporary folder (unix socket paths must stay under 108
 * bytes), the built test images registered in the file's catalog, and a clean-up that leaves
 * no QEMU process, network namespace, cgroup or file behind.
 *
 * QEMU missing is a failure with the install hint, never a silent skip.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import { hosts } from "@/lib/db/schema";
import { guestFiles } from "@/lib/drivers/qemu/args";
import { removeCgroup } from "@/lib/drivers/qemu/cgroup";
import { hostKey, netnsName, removeNetns } from "@/lib/drivers/qemu/netns";
import { guestPids } from "@/lib/drivers/qemu/process";
import { parseReadyLine, type ReadyReport } from "@/lib/drivers/qemu/glue";
import { LocalTransport } from "@/lib/drivers/transport/local";
import { registerBuiltImages } from "@/lib/catalog/register-images";
import { guestPrograms } from "@/lib/drivers/images/recipe";
import { ensureTestImages, testImageStore } from "./images";
import { unique, waitFor } from "./portal";

export const local = new LocalTransport();

const installHint = "npm test installs qemu-system-x86, qemu-utils, busybox-static, cpio, dropbear-bin and e2fsprogs on a fresh machine";

/** Fails (does not skip) when QEMU or what the guest image is built from is not installed, saying how to install it. */
export function requireQemu(): void {
  for (const [bin, pkg] of [["qemu-system-x86_64", "qemu-system-x86"], ["qemu-img", "qemu-utils"], ["busybox", "busybox-static"]] as const) {
    try {
      execFileSync(bin, bin === "busybox" ? [] : ["--version"], { stdio: "ignore" });
    } catch {
      throw new Error(`${bin} is not installed: run \`apt-get install -y ${pkg}\` as root (${installHint})`);
    }
  }
  for (const program of guestPrograms) {
    if (!existsSync(program.path)) throw new Error(`${program.path} is not installed: run \`apt-get install -y ${program.pkg}\` as root (${installHint})`);
  }
}

export type QemuHost = typeof hosts.$inferSelect;

export type QemuHosts = {
  hosts: QemuHost[];
  base: string;
  /** The guest folder of an environment on its host. */
  guestDir: (hostName: string, hostname: string) => string;
  cleanup: () => Promise<void>;
};

/** Builds (or reuses) the test images, registers them, and adds `count` QEMU hosts. */
export async function setupQemuHosts(db: Db, count = 2, config: Record<string, unknown> = {}): Promise<QemuHosts> {
  requireQemu();
  await ensureTestImages();
  const registered = await registerBuiltImages(db, local, testImageStore);
  if (!registered.some((r) => r.slug === "linux-qemu")) throw new Error(`the test image store ${testImageStore} has no linux-qemu build`);
  const base = mkdtempSync("/tmp/pq-");
  const created: QemuHost[] = [];
  for (let i = 1; i <= count; i++) {
    const [row] = await db
      .insert(hosts)
      .values({
        name: unique(`qt${i}`),
        kind: "qemu",
        address: "local",
        cpuCapacity: 4,
        memoryMbCapacity: 8192,
        diskGbCapacity: 200,
        features: ["vms", "live-migration"],
        config: { workDir: path.join(base, `h${i}`), imageStore: testImageStore, stopGraceMs: 15_000, readyTimeoutMs: 150_000, ...config } as (typeof hosts.$inferInsert)["config"],
      })
      .returning();
    created.push(row);
  }
  const guestDir = (hostName: string, hostname: string) => {
    const host = created.find((h) => h.name === hostName);
    if (!host) throw new Error(`no test host ${hostName}`);
    return path.join((host.config as { workDir: string }).workDir, "guests", hostname);
  };
  return {
    hosts: created,
    base,
    guestDir,
    async cleanup() {
      // Every QEMU under this test's folder (also guests that moved between the hosts).
      killQemuUnder(base);
      await waitFor(async () => (await Promise.all(created.map((h) => guestPidsUnder(h)))).flat(), (pids) => pids.length === 0, { timeoutMs: 10_000, what: "QEMU to exit" }).catch(() => []);
      for (const host of created) {
        const key = hostKey(host);
        for (const root of ["/sys/fs/cgroup/portal-qemu", "/sys/fs/cgroup/cpu/portal-qemu"]) {
          for (const group of existsSync(root) ? readdirSync(root).filter((g) => g.startsWith(`${key}-`)) : []) {
            await removeCgroup(local, group).catch(() => false);
          }
        }
        const guests = path.join((host.config as { workDir: string }).workDir, "guests");
        // Packs of this test's environments in the shared store.
        const packed = path.join(testImageStore, "packed");
        for (const name of existsSync(guests) ? readdirSync(guests) : []) {
          for (const p of existsSync(packed) ? readdirSync(packed).filter((k) => k.startsWith(`${name}-`)) : []) rmSync(path.join(packed, p), { recursive: true, force: true });
        }
        await removeNetns(local, netnsName(host)).catch(() => {});
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

async function guestPidsUnder(host: QemuHost): Promise<number[]> {
  const guests = path.join((host.config as { workDir: string }).workDir, "guests");
  const dirs = existsSync(guests) ? readdirSync(guests) : [];
  return (await Promise.all(dirs.map((d) => guestPids(local, path.join(guests, d))))).flat();
}

/** SIGKILLs every QEMU process whose command line names a path under `dir` (test clean-up). */
export function killQemuUnder(dir: string): void {
  const ps = execFileSync("ps", ["-ww", "-eo", "pid=,args="]).toString();
  for (const m of ps.split("\n").map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))) {
    if (m && m[2].includes("qemu-system") && m[2].includes(`${dir}/`)) {
      try {
        process.kill(Number(m[1]), "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

/** Every QEMU process whose command line names this guest folder. */
export function qemuProcessesFor(dir: string): Promise<number[]> {
  return guestPids(local, dir);
}

/**
 * Sends `status` on the guest's serial console (in folder `dir`) and returns the next complete
 * PORTAL-READY line: hostname, NICs and uptime as the running guest reports them.
 */
export async function askStatus(dir: string): Promise<ReadyReport> {
  const stream = await local.openStream(guestFiles(dir).serialSock);
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  try {
    return (await waitFor(
      async () => {
        stream.write("status\n");
        const lines = text.split(/\r?\n/).slice(0, -1);
        return lines.map(parseReadyLine).find((r) => r !== null) ?? null;
      },
      (r) => r !== null,
      { timeoutMs: 30_000, intervalMs: 700, what: "a PORTAL-READY answer to status" },
    )) as ReadyReport;
  } finally {
    stream.destroy();
  }
}

/** The argv of a running process. */
export function argvOf(pid: number): string[] {
  return execFileSync("cat", [`/proc/${pid}/cmdline`]).toString("utf8").split("\0").filter(Boolean);
}

export { guestFiles, hostKey, netnsName };
