import type { HostUsageCounters, UsageCounters } from "../drivers/types";

/** A raw sample's counters as stored (the previous reading of a subject). */
export type PreviousReading = { at: Date; cpuSeconds: number | null; rxBytesTotal: number | null; txBytesTotal: number | null };

export type UsagePoint = {
  cpuPercent: number | null;
  memoryBytes: number | null;
  diskBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
};

/** A counter's growth per second since the previous reading; null without one, or when it went back (a restart). */
export function perSecond(now: number | null, before: number | null | undefined, seconds: number): number | null {
  if (now === null || before === null || before === undefined || seconds <= 0) return null;
  const d = now - before;
  return d < 0 ? null : d / seconds;
}

/**
 * CPU % of `cpus` between two readings: CPU seconds used over wall seconds times CPUs,
 * 0-100 (a reading a little late or early can overshoot; it is clamped).
 */
export function cpuPercent(cpuSeconds: number | null, prev: PreviousReading | null, at: Date, cpus: number): number | null {
  if (!prev || cpus <= 0) return null;
  const rate = perSecond(cpuSeconds, prev.cpuSeconds, (at.getTime() - prev.at.getTime()) / 1000);
  return rate === null ? null : Math.min(100, Math.max(0, (rate / cpus) * 100));
}

export function guestPoint(c: UsageCounters, prev: PreviousReading | null, at: Date): UsagePoint {
  const seconds = prev ? (at.getTime() - prev.at.getTime()) / 1000 : 0;
  return {
    cpuPercent: cpuPercent(c.cpuSeconds, prev, at, c.vcpus),
    memoryBytes: c.memoryBytes,
    diskBytes: c.diskBytes,
    rxBytesPerSec: perSecond(c.rxBytes, prev?.rxBytesTotal, seconds),
    txBytesPerSec: perSecond(c.txBytes, prev?.txBytesTotal, seconds),
  };
}

export function hostPoint(c: HostUsageCounters, prev: PreviousReading | null, at: Date): UsagePoint {
  return guestPoint({ cpuSeconds: c.cpuSeconds, vcpus: c.cpus, memoryBytes: c.memoryUsedBytes, diskBytes: c.diskUsedBytes, rxBytes: c.rxBytes, txBytes: c.txBytes }, prev, at);
}
