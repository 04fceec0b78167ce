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
