import type { DeploySpec } from "../types";
import type { UsageCounters } from "../usage";

/**
 * Synthetic use of a simulated guest, plausible for its flavor and the same for the same
 * guest and time: a load that swings with an hourly and a daily wave (each guest with its own
 * phase, from its name), as cumulative counters, which are the integrals of those rates.
 */
const HOUR = 3600;
const DAY = 86_400;

function phaseOf(name: string): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h / 2 ** 32) * 2 * Math.PI;
}

/** ∫ (base + a·sin(2πt/P + φ) + b·sin(2πt/DAY + φ)) dt, so the rate is base ± a ± b (never negative if base > a + b). */
function integral(t: number, base: number, a: number, b: number, phase: number): number {
  return base * t - (a * HOUR) / (2 * Math.PI) * Math.cos((2 * Math.PI * t) / HOUR + phase) - (b * DAY) / (2 * Math.PI) * Math.cos((2 * Math.PI * t) / DAY + phase);
}

export function simUsage(spec: DeploySpec, at: Date): UsageCounters {
  const t = at.getTime() / 1000;
  const phase = phaseOf(spec.hostname);
  const vcpus = spec.flavor.vcpus;
  const wave = Math.sin((2 * Math.PI * t) / HOUR + phase);
  const memoryBytes = Math.round(spec.flavor.memoryMb * 1024 * 1024 * (0.45 + 0.15 * wave));
  // The disk fills slowly from the image's size over the day, never past the flavor's disk.
  const imageBytes = spec.image.sizeMb * 1024 * 1024;
  const diskBytes = Math.round(Math.min(spec.flavor.diskGb * 1024 ** 3, imageBytes * (1.1 + 0.05 * Math.sin((2 * Math.PI * t) / DAY + phase))));
  return {
    // 5-45 % of its vCPUs.
    cpuSeconds: vcpus * integral(t, 0.25, 0.12, 0.08, phase),
    vcpus,
    memoryBytes,
    diskBytes,
    rxBytes: Math.round(integral(t, 40_000, 20_000, 15_000, phase)),
    txBytes: Math.round(integral(t, 15_000, 8_000, 5_000, phase)),
  };
}
