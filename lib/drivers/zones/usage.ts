/**
 * What a Solaris 10 zone and its global zone use, as command plans read over SSH. NOT run on
 * a real Solaris host: written from prstat(1M), kstat(1M) and zfs(1M) and tested against the
 * emulators (tests/emulators/). `prstat -Z` gives each zone's resident memory and the CPU time
 * of its processes (TIME; a process that exits takes its time along, so a reading lower than
 * the last is no rate); the disk is the zone dataset's `used`. Shared-IP zones (Solaris 10)
 * have no network counters of their own: network is not reported. The host: its CPUs
 * (`psrinfo`), busy CPU time (`kstat cpu::sys:cpu_nsec_user/kernel`), memory pages
 * (`kstat unix:0:system_pages`, `pagesize`) and the zones dataset's used and available.
 */
import type { Transport } from "../transport/types";
import { run, type PlanStep } from "../plan/types";
import type { DeploySpec } from "../types";
import { numberOrNull, parseSize, readOutputs, type HostUsageCounters, type UsageCounters } from "../usage";
import type { ZonesHostConfig } from "./config";
import { zoneNames } from "./plan";

const PRSTAT = ["prstat", "-Z", "-n", "1,200", "1", "1"];

export function zoneUsageStep(spec: DeploySpec, cfg: ZonesHostConfig): PlanStep {
  const n = zoneNames(spec, cfg);
  return {
    step: "usage",
    description: `Read what zone ${n.zone} uses (memory, CPU time, disk)`,
    actions: [run(PRSTAT, "Each running zone's resident memory and CPU time"), run(["zfs", "get", "-Hp", "-o", "value", "used", n.dataset], "Space the zone's dataset takes (bytes)")],
  };
}

export function zonesHostUsageStep(cfg: ZonesHostConfig): PlanStep {
  return {
    step: "host-usage",
    description: "Read what the global zone's host uses (CPUs, busy CPU time, memory, zones dataset)",
    actions: [
      run(["psrinfo"], "The host's CPUs"),
      run(["kstat", "-p", "cpu::sys:cpu_nsec_user", "cpu::sys:cpu_nsec_kernel"], "Busy CPU time of every CPU (ns)"),
      run(["kstat", "-p", "unix:0:system_pages:physmem", "unix:0:system_pages:freemem"], "Memory and free memory (pages)"),
      run(["pagesize"], "Bytes per page"),
      run(["zfs", "get", "-Hp", "-o", "value", "used,available", cfg.zonesDataset], `Used and available space of ${cfg.zonesDataset} (bytes)`),
    ],
  };
}

/** [[h:]mm:]ss as seconds. */
function seconds(time: string): number | null {
  const parts = time.split(":").map(Number);
  if (parts.some((p) => !Number.isFinite(p))) return null;
  return parts.reduce((a, p) => a * 60 + p, 0);
}

/** The zone lines of `prstat -Z` (after the ZONEID header), by zone name. */
export function parsePrstatZones(text: string): Map<string, { rssBytes: number | null; cpuSeconds: number | null }> {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^\s*ZONEID\s/.test(l));
  const zones = new Map<string, { rssBytes: number | null; cpuSeconds: number | null }>();
  if (start < 0) return zones;
  const header = lines[start].trim().split(/\s+/);
  const col = (name: string) => header.indexOf(name);
  for (const line of lines.slice(start + 1)) {
    const f = line.trim().split(/\s+/);
    if (f.length !== header.length || !/^\d+$/.test(f[0])) break;
    zones.set(f[col("ZONE")], { rssBytes: parseSize(f[col("RSS")] ?? ""), cpuSeconds: seconds(f[col("TIME")] ?? "") });
  }
  return zones;
}

/** `kstat -p` lines: statistic -> value. */
export function parseKstat(text: string): [string, number][] {
  return text
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((f) => f.length === 2 && numberOrNull(f[1]) !== null)
    .map((f) => [f[0], Number(f[1])]);
}

export async function zoneGuestUsage(t: Transport, spec: DeploySpec, cfg: ZonesHostConfig): Promise<UsageCounters> {
  const [prstat, used] = await readOutputs(t, zoneUsageStep(spec, cfg), spec.host.name);
  const zone = parsePrstatZones(prstat).get(zoneNames(spec, cfg).zone);
  if (!zone) throw new Error(`${spec.host.name}: prstat -Z shows no running zone ${spec.hostname}`);
  return {
    cpuSeconds: zone.cpuSeconds,
    vcpus: spec.flavor.cpuCap ?? spec.flavor.vcpus,
    memoryBytes: zone.rssBytes,
    diskBytes: numberOrNull(used),
    rxBytes: null,
    txBytes: null,
  };
}

export async function zonesHostUsage(t: Transport, host: DeploySpec["host"], cfg: ZonesHostConfig): Promise<HostUsageCounters> {
  const [psrinfo, cpuStats, pageStats, pagesize, zfs] = await readOutputs(t, zonesHostUsageStep(cfg), host.name);
  const cpus = psrinfo.split("\n").filter((l) => /^\d+\s/.test(l)).length || 1;
  const nsec = parseKstat(cpuStats).reduce((a, [, v]) => a + v, 0);
  const pages = new Map(parseKstat(pageStats).map(([k, v]) => [k.split(":").pop()!, v]));
  const page = numberOrNull(pagesize) ?? 4096;
  const physmem = pages.get("physmem");
  const freemem = pages.get("freemem");
  const [used, available] = zfs.trim().split("\n").map((s) => numberOrNull(s));
  return {
    cpuSeconds: nsec / 1e9,
    cpus,
    memoryUsedBytes: physmem !== undefined && freemem !== undefined ? (physmem - freemem) * page : null,
    memoryTotalBytes: physmem !== undefined ? physmem * page : null,
    diskUsedBytes: used ?? null,
    diskTotalBytes: used != null && available != null ? used + available : null,
    rxBytes: null,
    txBytes: null,
  };
}
