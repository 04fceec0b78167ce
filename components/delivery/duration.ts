/** A duration as people say it: 420 ms, 4.2 s, 12 min 5 s, 1 h 20 min. */
export function shortDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 1 : 0)} s`;
  if (v < 3_600_000) {
    const m = Math.floor(v / 60_000);
    const s = Math.round((v - m * 60_000) / 1000);
    return s === 0 || m >= 10 ? `${m} min` : `${m} min ${s} s`;
  }
  const h = Math.floor(v / 3_600_000);
  const m = Math.round((v - h * 3_600_000) / 60_000);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

export function percent(share: number | null): string {
  return share === null ? "—" : `${Math.round(share * 1000) / 10}%`;
}

const SEC = 1000;
const MIN = 60 * SEC;
/** Tick steps a duration axis may use: round in ms, seconds, minutes and hours. */
const tickSteps = [
  1, 2, 5, 10, 20, 50, 100, 200, 250, 500,
  SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
  MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN, 30 * MIN,
  60 * MIN, 2 * 60 * MIN, 3 * 60 * MIN, 6 * 60 * MIN, 12 * 60 * MIN, 24 * 60 * MIN,
];

/** A duration axis up to at least `value`: at most 6 ticks on a round step (1-2-5 ms, 15 s, 10 min, 1 h). */
export function durationAxis(value: number): { max: number; ticks: number[] } {
  const v = Math.max(value, 1);
  const step = tickSteps.find((t) => Math.ceil(v / t) <= 5) ?? Math.ceil(v / 5 / (24 * 60 * MIN)) * 24 * 60 * MIN;
  const n = Math.max(1, Math.ceil(v / step));
  return { max: n * step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
}
