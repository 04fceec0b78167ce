import path from "node:path";
import type { Transport } from "../transport/types";
import { parseDf, parseMeminfo, parseNetDev, parseProcStat, type HostUsageCounters, type UsageCounters } from "../usage";
import { StepError, type DeploySpec } from "../types";
import { cgroupName } from "./cgroup";
import { hostKey } from "./netns";
import { guestFiles, guestPid } from "./process";

/**
 * What a QEMU guest uses, read on its host: CPU time from its cgroup's cpu.stat (usage_usec)
 * where the driver put it in one (a CPU cap), else from /proc/<pid>/stat (utime + stime of
 * all QEMU's threads; the vCPUs are threads); memory from the process's resident set; disk
 * from what the guest's folder takes (qcow2 overlays and the data disk grow on write); network
 * from its taps' counters in the host's namespace (a tap's tx is what the guest received).
 */

/** utime + stime (fields 14 and 15, after the command in parentheses) in seconds (USER_HZ 100). */
export function parsePidStat(text: string): number | null {
  const rest = text.slice(text.lastIndexOf(")") + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state): utime is field 14, stime 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null;
}

function kbLine(text: string, key: string): number | null {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** `ip -j -s link show dev TAP`: the tap's byte counters. */
export function parseIpLinkStats(json: string): { rx: number; tx: number } | null {
  try {
    const [link] = JSON.parse(json) as { stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } } }[];
    const rx = link?.stats64?.rx?.bytes;
    const tx = link?.stats64?.tx?.bytes;
    return typeof rx === "number" && typeof tx === "number" ? { rx, tx } : null;
  } catch {
    return null;
  }
}

async function cgroupCpuSeconds(t: Transport, spec: DeploySpec): Promise<number | null> {
  const stat = await t.readFile(`/sys/fs/cgroup/portal-qemu/${cgroupName(hostKey(spec.host), spec.hostname)}/cpu.stat`).catch(() => null);
  const m = stat ? /^usage_usec (\d+)$/m.exec(stat.toString()) : null;
  return m ? Number(m[1]) / 1e6 : null;
}

export async function qemuGuestUsage(t: Transport, spec: DeploySpec, dir: string): Promise<UsageCounters> {
  const pid = await guestPid(t, dir);
  if (pid === null) throw new StepError(`guest ${spec.hostname} is not running on ${spec.host.name}`);
  const [pidStat, status, du, network] = await Promise.all([
    t.readFile(`/proc/${pid}/stat`),
    t.readFile(`/proc/${pid}/status`),
    t.run(["du", "-s", "-B1", dir], { timeoutMs: 15_000 }),
    t.readFile(path.join(guestFiles(dir).dir, "network.json")).catch(() => null),
  ]);
  const cpuSeconds = (await cgroupCpuSeconds(t, spec)) ?? (pidStat ? parsePidStat(pidStat.toString()) : null);
  let rxBytes: number | null = null;
  let txBytes: number | null = null;
  const net = network ? (JSON.parse(network.toString()) as { mode: string; netns?: string; taps?: string[] }) : null;
  if (net?.mode === "bridge" && net.netns && net.taps?.length) {
    const stats = await Promise.all(net.taps.map((tap) => t.run(["ip", "-n", net.netns!, "-j", "-s", "link", "show", "dev", tap], { timeoutMs: 10_000 })));
    const parsed = stats.map((r) => (r.code === 0 ? parseIpLinkStats(r.stdout) : null));
    if (parsed.every((p) => p !== null)) {
      // The tap's transmit side is what reaches the guest.
      rxBytes = parsed.reduce((a, p) => a + p!.tx, 0);
      txBytes = parsed.reduce((a, p) => a + p!.rx, 0);
    }
  }
  return {
    cpuSeconds,
    vcpus: spec.flavor.vcpus,
    memoryBytes: status ? kbLine(status.toString(), "VmRSS") : null,
    diskBytes: du.code === 0 ? Number(du.stdout.trim().split(/\s+/)[0]) || null : null,
    rxBytes,
    txBytes,
  };
}

/** The host: /proc/stat, /proc/meminfo, /proc/net/dev, and `df` of the guests' work folder. */
export async function linuxHostUsage(t: Transport, storageDir: string): Promise<HostUsageCounters> {
  const [stat, meminfo, netdev, df] = await Promise.all([
    t.readFile("/proc/stat"),
    t.readFile("/proc/meminfo"),
    t.readFile("/proc/net/dev"),
    t.run(["df", "-P", "-B1", storageDir], { timeoutMs: 15_000 }),
  ]);
  const cpu = stat ? parseProcStat(stat.toString()) : null;
  if (!cpu) throw new StepError("the host gave no /proc/stat");
  const mem = meminfo ? parseMeminfo(meminfo.toString()) : null;
  const disk = df.code === 0 ? parseDf(df.stdout) : null;
  const net = netdev ? parseNetDev(netdev.toString()) : null;
  return {
    cpuSeconds: cpu.cpuSeconds,
    cpus: cpu.cpus,
    memoryUsedBytes: mem?.usedBytes ?? null,
    memoryTotalBytes: mem?.totalBytes ?? null,
    diskUsedBytes: disk?.usedBytes ?? null,
    diskTotalBytes: disk?.totalBytes ?? null,
    rxBytes: net?.rxBytes ?? null,
    txBytes: net?.txBytes ?? null,
  };
}
