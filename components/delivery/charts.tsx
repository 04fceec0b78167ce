/**
 * Server-rendered SVG charts for the delivery dashboard: no chart library, no script. Each
 * chart is an image with a title and a description for screen readers, and a <title> per
 * bar for the pointer; the same numbers are in a table under it.
 */
import type { ReactNode } from "react";
import { durationAxis, percent, shortDuration } from "./duration";

const ONE_HOUR_MS = 3_600_000;

export function ChartFrame({ id, title, desc, width, height, displayWidth, children }: { id: string; title: string; desc: string; width: number; height: number; displayWidth?: number; children: ReactNode }) {
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width={displayWidth ?? width}
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      data-chart={id}
      className="block h-auto max-w-full font-sans"
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{desc}</desc>
      {children}
    </svg>
  );
}

/**
 * A half-circle gauge: the share of orders that kept the promise. Green from 90%, amber from
 * 70%, red below; grey with no decided orders.
 */
export function ShareGauge({ id, title, share, kept, missed, open }: { id: string; title: string; share: number | null; kept: number; missed: number; open: number }) {
  const w = 220;
  const h = 132;
  const cx = 110;
  const cy = 112;
  const r = 88;
  const f = share ?? 0;
  const angle = Math.PI * (1 - f);
  const x = cx + r * Math.cos(angle);
  const y = cy - r * Math.sin(angle);
  const tone = share === null ? "#94a3b8" : share >= 0.9 ? "#059669" : share >= 0.7 ? "#d97706" : "#e11d48";
  const desc =
    share === null
      ? "No order in this range has been delivered or passed its hour yet."
      : `${percent(share)}: ${kept} of ${kept + missed} orders kept the promise; ${open} still within their hour.`;
  return (
    <ChartFrame id={id} title={title} desc={desc} width={w} height={h} displayWidth={280}>
      <path d={`M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}`} fill="none" stroke="#e2e8f0" strokeWidth={18} strokeLinecap="round" />
      {share !== null && f > 0 ? (
        <path data-bar="share" d={`M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} fill="none" stroke={tone} strokeWidth={18} strokeLinecap="round">
          <title>{desc}</title>
        </path>
      ) : null}
      <text x={cx} y={cy - 22} textAnchor="middle" fontSize={30} fontWeight={700} fill="#0f172a">
        {percent(share)}
      </text>
      <text x={cx} y={cy - 2} textAnchor="middle" fontSize={11} fill="#475569">
        {share === null ? "no data yet" : `${kept} of ${kept + missed} orders`}
      </text>
      <text x={cx - r} y={cy + 18} textAnchor="middle" fontSize={10} fill="#64748b">0%</text>
      <text x={cx + r} y={cy + 18} textAnchor="middle" fontSize={10} fill="#64748b">100%</text>
    </ChartFrame>
  );
}

export type RangeRow = { key: string; label: string; sub?: string; p50: number | null; p95: number | null; count: number };

/**
 * Horizontal bars, one row per image or step: the p95 as a light bar, the p50 as a dark bar
 * over it. With `hourMarker`, a dashed line at one hour when the axis reaches it.
 */
export function RangeBarChart({ id, title, desc, rows, hourMarker = false, width = 1000 }: { id: string; title: string; desc: string; rows: RangeRow[]; hourMarker?: boolean; width?: number }) {
  const w = width;
  const labelW = 200;
  const valueW = 150;
  const barW = w - labelW - valueW - 10;
  const rowH = 30;
  const top = 26;
  const h = top + rows.length * rowH + 24;
  const { max, ticks } = durationAxis(Math.max(...rows.map((r) => r.p95 ?? r.p50 ?? 0), hourMarker && rows.some((r) => (r.p95 ?? 0) > ONE_HOUR_MS / 2) ? ONE_HOUR_MS : 0));
  const scale = (v: number) => (v / max) * barW;
  return (
    <ChartFrame id={id} title={title} desc={desc} width={w} height={h}>
      <Legend x={labelW} items={[{ color: "#0369a1", label: "p50 (half of the orders took at most)", width: 236 }, { color: "#bae6fd", label: "p95", width: 40 }]} />
      <TimeGrid ticks={ticks} x={(t) => labelW + scale(t)} top={top - 4} bottom={top + rows.length * rowH} labelY={h - 6} />
      {rows.map((r, i) => {
        const y = top + i * rowH;
        return (
          <g key={r.key} data-row={r.key}>
            <text x={labelW - 8} y={y + (r.sub ? 12 : 18)} textAnchor="end" fontSize={12} fill="#0f172a">{r.label}</text>
            {r.sub ? <text x={labelW - 8} y={y + 25} textAnchor="end" fontSize={10} fill="#64748b">{r.sub}</text> : null}
            {r.p95 !== null ? (
              <rect data-bar="p95" x={labelW} y={y + 5} width={Math.max(1, scale(r.p95))} height={18} rx={3} fill="#bae6fd">
                <title>{`${r.label}: p95 ${shortDuration(r.p95)} (${r.count} runs)`}</title>
              </rect>
            ) : null}
            {r.p50 !== null ? (
              <rect data-bar="p50" x={labelW} y={y + 9} width={Math.max(1, scale(r.p50))} height={10} rx={2} fill="#0369a1">
                <title>{`${r.label}: p50 ${shortDuration(r.p50)} (${r.count} runs)`}</title>
              </rect>
            ) : null}
            <text x={w - valueW + 6} y={y + 18} fontSize={11} fill="#334155">
              {r.p50 === null ? "no runs" : `${shortDuration(r.p50)} · p95 ${shortDuration(r.p95)}`}
            </text>
          </g>
        );
      })}
      {hourMarker && max >= ONE_HOUR_MS ? (
        <g>
          <line x1={labelW + scale(ONE_HOUR_MS)} x2={labelW + scale(ONE_HOUR_MS)} y1={top - 6} y2={top + rows.length * rowH} stroke="#e11d48" strokeDasharray="4 3" strokeWidth={1.5} />
          <text x={labelW + scale(ONE_HOUR_MS) - 4} y={top - 8} textAnchor="end" fontSize={10} fill="#e11d48">1 hour</text>
        </g>
      ) : null}
    </ChartFrame>
  );
}

export type EstimateRow = { key: string; label: string; estimate: number | null; actual: number | null; count: number };

/** Two bars per step: what the portal expected (median estimate) and what it took (median actual). */
export function EstimateVsActualChart({ id, title, desc, rows, width = 1000 }: { id: string; title: string; desc: string; rows: EstimateRow[]; width?: number }) {
  const w = width;
  const labelW = 200;
  const valueW = 150;
  const barW = w - labelW - valueW - 10;
  const rowH = 34;
  const top = 26;
  const h = top + rows.length * rowH + 24;
  const { max, ticks } = durationAxis(Math.max(0, ...rows.flatMap((r) => [r.estimate ?? 0, r.actual ?? 0])));
  const scale = (v: number) => (v / max) * barW;
  return (
    <ChartFrame id={id} title={title} desc={desc} width={w} height={h}>
      <Legend x={labelW} items={[{ color: "#a78bfa", label: "estimated", width: 90 }, { color: "#0f766e", label: "actual", width: 60 }]} />
      <TimeGrid ticks={ticks} x={(t) => labelW + scale(t)} top={top - 4} bottom={top + rows.length * rowH} labelY={h - 6} />
      {rows.map((r, i) => {
        const y = top + i * rowH;
        const off = r.estimate !== null && r.actual !== null && r.actual > r.estimate * 1.25;
        return (
          <g key={r.key} data-row={r.key}>
            <text x={labelW - 8} y={y + 19} textAnchor="end" fontSize={12} fill="#0f172a">{r.label}</text>
            {r.estimate !== null ? (
              <rect data-bar="estimate" x={labelW} y={y + 4} width={Math.max(1, scale(r.estimate))} height={11} rx={2} fill="#a78bfa">
                <title>{`${r.label}: estimated ${shortDuration(r.estimate)}`}</title>
              </rect>
            ) : null}
            {r.actual !== null ? (
              <rect data-bar="actual" x={labelW} y={y + 17} width={Math.max(1, scale(r.actual))} height={11} rx={2} fill="#0f766e">
                <title>{`${r.label}: took ${shortDuration(r.actual)} (median of ${r.count})`}</title>
              </rect>
            ) : null}
            <text x={w - valueW + 6} y={y + 19} fontSize={11} fill={off ? "#b91c1c" : "#334155"}>
              {r.estimate === null ? "no estimate yet" : `${shortDuration(r.estimate)} → ${shortDuration(r.actual)}`}
            </text>
          </g>
        );
      })}
    </ChartFrame>
  );
}

/** Vertical grid lines with their durations under the chart. */
function TimeGrid({ ticks, x, top, bottom, labelY }: { ticks: number[]; x: (t: number) => number; top: number; bottom: number; labelY: number }) {
  return (
    <>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={top} y2={bottom} stroke="#e2e8f0" />
          <text x={x(t)} y={labelY} textAnchor="middle" fontSize={10} fill="#64748b">{shortDuration(t)}</text>
        </g>
      ))}
    </>
  );
}

/** A row of colour swatches with labels above a chart; `width` is the room each item takes. */
export function Legend({ x, items }: { x: number; items: { color: string; label: string; width: number }[] }) {
  let at = x;
  return (
    <g fontSize={11} fill="#475569">
      {items.map((item) => {
        const left = at;
        at += item.width;
        return (
          <g key={item.label}>
            <rect x={left} y={4} width={10} height={10} fill={item.color} rx={2} />
            <text x={left + 14} y={13}>{item.label}</text>
          </g>
        );
      })}
    </g>
  );
}
