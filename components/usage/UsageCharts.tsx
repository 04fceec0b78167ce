/**
 * Server-rendered SVG line charts of sampled use (CPU %, memory, disk, network), drawn with
 * the delivery dashboard's chart frame and legend (components/delivery/charts.tsx): no chart
 * library, no script; the range switch is a plain link. Times are UTC like everywhere else.
 */
import { ChartFrame, Legend } from "@/components/delivery/charts";
import type { UsageRange, UsageSeries, UsageSeriesPoint } from "@/lib/usage/series";

// Narrow, so that the labels stay readable when a phone shows the chart 290 px wide.
const W = 400;
const H = 180;
const LEFT = 66;
const RIGHT = 14;
const TOP = 26;
const BOTTOM = 24;
const FONT = 13;

const pad = (n: number) => String(n).padStart(2, "0");

/** 1.5 GiB, 320 MiB, 12 KiB (binary units, as memory and disk are given). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : +v.toFixed(1)} ${units[i]}`;
}

/** A round axis top: 4 steps of 1, 2 or 5 times a power of ten, or for bytes a power of two (128 MiB, 1 GiB). */
function niceMax(value: number, bytes: boolean): number {
  if (value <= 0) return bytes ? 1024 : 1;
  const raw = value / 4;
  if (bytes) {
    let step = 1;
    while (step < raw) step *= 2;
    return step * 4;
  }
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw) * 4;
}

function timeLabel(ms: number, range: UsageRange): string {
  const d = new Date(ms);
  return range === "30d" ? `${d.getUTCMonth() + 1}-${pad(d.getUTCDate())}` : `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

type Line = { key: string; label: string; color: string; value: (p: UsageSeriesPoint) => number | null };

/**
 * Path segments through the points that have a value (a missing value breaks the line), and
 * the points that stand alone (no line to draw: shown as a dot).
 */
function pathOf(points: UsageSeriesPoint[], line: Line, x: (ms: number) => number, y: (v: number) => number): { d: string; dots: [number, number][] } {
  const segments: [number, number][][] = [[]];
  for (const p of points) {
    const v = line.value(p);
    if (v === null) {
      if (segments.at(-1)!.length) segments.push([]);
      continue;
    }
    segments.at(-1)!.push([x(Date.parse(p.at)), y(v)]);
  }
  const d = segments
    .filter((s) => s.length > 0)
    .map((s) => s.map(([px, py], i) => `${i === 0 ? "M" : "L"}${px.toFixed(1)} ${py.toFixed(1)}`).join(" "))
    .join(" ");
  return { d, dots: segments.filter((s) => s.length === 1).map((s) => s[0]) };
}

export function UsageLineChart({ id, title, unit, series, lines, max, format }: { id: string; title: string; unit: string; series: UsageSeries; lines: Line[]; max?: number; format: (v: number) => string }) {
  const from = Date.parse(series.from);
  const to = Date.parse(series.to);
  const values = series.points.flatMap((p) => lines.map((l) => l.value(p))).filter((v): v is number => v !== null);
  const top = max ?? niceMax(Math.max(0, ...values), unit !== "%");
  const x = (ms: number) => LEFT + ((ms - from) / (to - from)) * (W - LEFT - RIGHT);
  const y = (v: number) => H - BOTTOM - (Math.min(v, top) / top) * (H - TOP - BOTTOM);
  const latest = [...series.points].reverse().find((p) => lines.some((l) => l.value(p) !== null));
  const desc = values.length
    ? `${title} over the ${series.range === "1h" ? "last hour" : series.range === "1d" ? "last day" : "last 30 days"}; latest ${lines.map((l) => `${l.label} ${latest && l.value(latest) !== null ? format(l.value(latest)!) : "none"}`).join(", ")}.`
    : `${title}: no samples yet.`;
  const yTicks = [0, 1, 2, 3, 4].map((i) => (top * i) / 4);
  const xTicks = [0, 1, 2, 3, 4].map((i) => from + ((to - from) * i) / 4);
  return (
    <ChartFrame id={id} title={title} desc={desc} width={W} height={H}>
      {lines.length > 1 ? <Legend x={W - RIGHT - 80 * lines.length} items={lines.map((l) => ({ color: l.color, label: l.label, width: 80 }))} /> : null}
      <text x={4} y={14} fontSize={FONT} fontWeight={600} fill="#0f172a">{`${title.split(" (")[0]} (${unit})`}</text>
      {yTicks.map((t) => (
        <g key={t}>
          <line x1={LEFT} x2={W - RIGHT} y1={y(t)} y2={y(t)} stroke="#e2e8f0" />
          <text x={LEFT - 6} y={y(t) + 4} textAnchor="end" fontSize={FONT} fill="#64748b">{format(t)}</text>
        </g>
      ))}
      {xTicks.map((t, i) => (
        <text key={t} x={x(t)} y={H - 6} textAnchor={i === 0 ? "start" : i === 4 ? "end" : "middle"} fontSize={FONT} fill="#64748b">{timeLabel(t, series.range)}</text>
      ))}
      {values.length === 0 ? (
        <text x={(LEFT + W - RIGHT) / 2} y={(TOP + H - BOTTOM) / 2} textAnchor="middle" fontSize={FONT + 1} fill="#64748b" data-empty="true">no samples yet</text>
      ) : (
        lines.map((l) => {
          const { d, dots } = pathOf(series.points, l, x, y);
          return (
            <g key={l.key}>
              <path data-line={l.key} d={d} fill="none" stroke={l.color} strokeWidth={2} strokeLinejoin="round" />
              {dots.map(([cx, cy]) => <circle key={`${cx}-${cy}`} data-dot={l.key} cx={cx.toFixed(1)} cy={cy.toFixed(1)} r={3} fill={l.color} />)}
            </g>
          );
        })
      )}
    </ChartFrame>
  );
}

const rangeLabels: Record<UsageRange, string> = { "1h": "Last hour", "1d": "Last day", "30d": "Last 30 days" };

/**
 * The Usage card: four charts and a range switch (links to `hrefFor(range)`). `cpuLabel`
 * says what 100 % is (the environment's vCPUs, the host's CPUs).
 */
export function UsageCard({ id, series, hrefFor, cpuLabel, note }: { id: string; series: UsageSeries; hrefFor: (r: UsageRange) => string; cpuLabel: string; note?: string }) {
  const empty = series.points.length === 0;
  return (
    <section id={id} aria-labelledby={`${id}-heading`} className="card space-y-4 p-5" data-testid="usage-card">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id={`${id}-heading`} className="text-base">Usage</h2>
        <nav aria-label="Usage range" className="flex flex-wrap gap-1 text-sm">
          {(Object.keys(rangeLabels) as UsageRange[]).map((r) => (
            <a
              key={r}
              href={hrefFor(r)}
              aria-current={r === series.range ? "true" : undefined}
              className={`rounded px-2 py-1 ${r === series.range ? "bg-slate-800 text-white" : "text-sky-700 hover:bg-slate-100"}`}
            >
              {rangeLabels[r]}
            </a>
          ))}
        </nav>
      </div>
      <p className="text-xs text-slate-500">
        {empty ? "No samples yet: the worker samples every minute while it runs." : `${rangeLabels[series.range]}, each point an average of ${series.bucket} (UTC).`}
        {note ? ` ${note}` : ""}
      </p>
      <div className="grid gap-4 lg:grid-cols-2">
        <UsageLineChart id={`${id}-cpu`} title={`CPU (% of ${cpuLabel})`} unit="%" series={series} max={100} format={(v) => `${Math.round(v)}%`} lines={[{ key: "cpu", label: "CPU", color: "#0369a1", value: (p) => p.cpuPercent }]} />
        <UsageLineChart id={`${id}-memory`} title="Memory" unit="bytes" series={series} format={formatBytes} lines={[{ key: "memory", label: "memory", color: "#7c3aed", value: (p) => p.memoryBytes }]} />
        <UsageLineChart id={`${id}-disk`} title="Disk" unit="bytes" series={series} format={formatBytes} lines={[{ key: "disk", label: "disk", color: "#0f766e", value: (p) => p.diskBytes }]} />
        <UsageLineChart
          id={`${id}-network`}
          title="Network"
          unit="bytes/s"
          series={series}
          format={(v) => `${formatBytes(v)}/s`}
          lines={[
            { key: "rx", label: "received", color: "#059669", value: (p) => p.rxBytesPerSec },
            { key: "tx", label: "sent", color: "#d97706", value: (p) => p.txBytesPerSec },
          ]}
        />
      </div>
    </section>
  );
}
