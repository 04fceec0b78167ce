import type { PlanStep } from "./plan/types";
import type { Transport } from "./transport/types";

/**
 * What a driver reports of a guest's or a host's use: cumulative counters (CPU seconds,
 * network bytes) and current sizes (memory, disk). The portal (lib/usage) turns two readings
 * into rates: CPU % is the CPU seconds used between them over the wall time times the vCPUs.
 * A figure a host cannot give is null, never a guess.
 */
export type UsageCounters = {
  /** CPU time the guest used since it started, summed over its vCPUs. */
  cpuSeconds: number | null;
  /** vCPUs the guest has (the 100 % of its CPU use). */
  vcpus: number;
  /** Memory the guest holds on its host now. */
  memoryBytes: number | null;
  /** Disk space the guest's disks take on the host now. */
  diskBytes: number | null;
  /** Bytes the guest received and sent since its network started (as the guest sees it). */
  rxBytes: number | null;
  txBytes: number | null;
};

export type HostUsageCounters = {
  /** CPU time all CPUs were busy since the host booted. */
  cpuSeconds: number | null;
  cpus: number;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /** The guests' storage (work folder, volume group, zones pool): used and total. */
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  rxBytes: number | null;
  txBytes: number | null;
};

/** A number from a tool's output, or null when it is not one. */
export function numberOrNull(s: string | undefined): number | null {
  if (s === undefined || s.trim() === "") return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
}

/**
 * Linux /proc/stat's first line: busy CPU seconds of all CPUs (user, nice, system, irq,
 * softirq, steal; idle and iowait are not busy) and the number of CPUs. USER_HZ is 100.
 */
export function parseProcStat(text: string): { cpuSeconds: number; cpus: number } | null {
  const lines = text.split("\n");
  const all = lines.find((l) => /^cpu\s/.test(l));
  if (!all) return null;
  const f = all.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return null;
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = f;
  const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { cpuSeconds: (user + nice + system + irq + softirq + steal) / 100, cpus: Math.max(1, cpus) };
}

/** /proc/meminfo: total and used (total less available) bytes. */
export function parseMeminfo(text: string): { usedBytes: number; totalBytes: number } | null {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable") ?? kb("MemFree");
  if (total === null || available === null) return null;
  return { usedBytes: total - available, totalBytes: total };
}

/** `df -P -B1 DIR`: used and total bytes of the file system holding DIR. */
export function parseDf(text: string): { usedBytes: number; totalBytes: number } | null {
  const line = text.trim().split("\n")[1];
  const f = line?.trim().split(/\s+/);
  if (!f || f.length < 4) return null;
  const total = numberOrNull(f[1]);
  const used = numberOrNull(f[2]);
  return total === null || used === null ? null : { usedBytes: used, totalBytes: total };
}

/** /proc/net/dev: bytes received and sent over every interface but loopback. */
export function parseNetDev(text: string): { rxBytes: number; txBytes: number } | null {
  let rx = 0;
  let tx = 0;
  let seen = false;
  for (const line of text.split("\n")) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === "lo") continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 9 || !Number.isFinite(f[0]) || !Number.isFinite(f[8])) continue;
    rx += f[0];
    tx += f[8];
    seen = true;
  }
  return seen ? { rxBytes: rx, txBytes: tx } : null;
}

/**
 * Runs the commands of a reading step (a usage plan, ./xen/usage.ts, ./zones/usage.ts) and
 * returns their outputs in order; a command that fails fails the reading, with its words.
 */
export async function readOutputs(t: Transport, step: PlanStep, host: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const action of step.actions) {
    if (action.kind !== "run") continue;
    const r = await t.run(action.argv, { timeoutMs: action.timeoutMs ?? 20_000 });
    if (r.code !== 0) throw new Error(`${host}: ${action.argv.join(" ")} exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
    outputs.push(r.stdout);
  }
  return outputs;
}

/** A size as Solaris tools print it: 512K, 120M, 1.5G (bytes). */
export function parseSize(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?B?$/i.exec(s.trim());
  if (!m) return null;
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(m[2] ?? "").toUpperCase() as "K"] ?? 1;
  return Math.round(Number(m[1]) * unit);
}
