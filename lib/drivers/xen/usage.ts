/**
 * What a Xen guest and its dom0 use, as command plans read over SSH. NOT run on a real Xen
 * host: written from xl(1) and lvs(8) and tested against the emulators (tests/emulators/).
 * `xl list NAME` gives the domain's memory (MiB), vCPUs and CPU time (s); its disk is its
 * logical volume's size; network: the dom0 side of its vif (`vif<domid>.0`), whose transmit
 * counter is what the guest received. The host: `xl info` (CPUs, total and free memory), the
 * CPU time of every domain (`xl list`, Domain-0 included), the volume group's size and free.
 */
import type { Transport } from "../transport/types";
import { run, type PlanStep } from "../plan/types";
import type { DeploySpec } from "../types";
import { numberOrNull, readOutputs, type HostUsageCounters, type UsageCounters } from "../usage";
import type { XenHostConfig } from "./config";
import { lvsArgs, xenNames } from "./plan";

const vgsArgs = (vg: string) => ["vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", "vg_size,vg_free", vg];

export function xenUsageStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const n = xenNames(spec, cfg);
  return {
    step: "usage",
    description: `Read what ${spec.hostname} uses (memory, vCPUs, CPU time, disk)`,
    actions: [run(["xl", "list", spec.hostname], "The domain's memory (MiB), vCPUs and CPU time (s)"), run(lvsArgs("lv_size", n.lvPath), "Size of its disk volume")],
  };
}

export function xenHostUsageStep(cfg: XenHostConfig): PlanStep {
  return {
    step: "host-usage",
    description: "Read what the host uses (CPUs, memory, CPU time of all domains, volume group)",
    actions: [
      run(["xl", "info"], "CPUs, total and free memory (MiB)"),
      run(["xl", "list"], "CPU time of every domain, Domain-0 included"),
      run(vgsArgs(cfg.volumeGroup), `Size and free space of volume group ${cfg.volumeGroup}`),
    ],
  };
}

/** `xl list` rows: name, id, memory MiB, vCPUs, state, CPU seconds. */
export function parseXlList(text: string): { name: string; id: number; memoryMb: number; vcpus: number; cpuSeconds: number }[] {
  return text
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && /^\d+$/.test(f[1]))
    .map((f) => ({ name: f[0], id: Number(f[1]), memoryMb: Number(f[2]), vcpus: Number(f[3]), cpuSeconds: Number(f[5]) }));
}

/** `xl info` "key : value" lines. */
export function parseXlInfo(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").map((l) => /^(\w+)\s*:\s*(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m![1], m![2].trim()]));
}

async function vifCounter(t: Transport, id: number, which: "rx" | "tx"): Promise<number | null> {
  const raw = await t.readFile(`/sys/class/net/vif${id}.0/statistics/${which}_bytes`).catch(() => null);
  return raw ? numberOrNull(raw.toString()) : null;
}

export async function xenGuestUsage(t: Transport, spec: DeploySpec, cfg: XenHostConfig): Promise<UsageCounters> {
  const [list, lvs] = await readOutputs(t, xenUsageStep(spec, cfg), spec.host.name);
  const dom = parseXlList(list).find((d) => d.name === spec.hostname);
  if (!dom) throw new Error(`${spec.host.name}: xl list shows no domain ${spec.hostname}`);
  // dom0's vif transmits what the guest receives.
  const [vifTx, vifRx] = await Promise.all([vifCounter(t, dom.id, "tx"), vifCounter(t, dom.id, "rx")]);
  return {
    cpuSeconds: Number.isFinite(dom.cpuSeconds) ? dom.cpuSeconds : null,
    vcpus: dom.vcpus || spec.flavor.vcpus,
    memoryBytes: Number.isFinite(dom.memoryMb) ? dom.memoryMb * 1024 * 1024 : null,
    diskBytes: numberOrNull(lvs.split("|")[0]),
    rxBytes: vifTx,
    txBytes: vifRx,
  };
}

export async function xenHostUsage(t: Transport, host: DeploySpec["host"], cfg: XenHostConfig): Promise<HostUsageCounters> {
  const [infoText, list, vgs] = await readOutputs(t, xenHostUsageStep(cfg), host.name);
  const info = parseXlInfo(infoText);
  const totalMb = numberOrNull(info.total_memory);
  const freeMb = numberOrNull(info.free_memory);
  const [size, free] = vgs.trim().split("|").map((s) => numberOrNull(s));
  return {
    cpuSeconds: parseXlList(list).reduce((a, d) => a + (Number.isFinite(d.cpuSeconds) ? d.cpuSeconds : 0), 0),
    cpus: numberOrNull(info.nr_cpus) ?? 1,
    memoryUsedBytes: totalMb !== null && freeMb !== null ? (totalMb - freeMb) * 1024 * 1024 : null,
    memoryTotalBytes: totalMb !== null ? totalMb * 1024 * 1024 : null,
    diskUsedBytes: size != null && free != null ? size - free : null,
    diskTotalBytes: size ?? null,
    rxBytes: null,
    txBytes: null,
  };
}
