import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { metricHistograms } from "../db/schema";

/**
 * Histograms that live in PostgreSQL (table metric_histograms): the worker that finishes a
 * step or delivers an order adds the observation in the database, and every web process reads
 * the same cumulative counts when Prometheus scrapes it. An in-process prom-client histogram
 * would count only what that one process saw and start again from zero at each restart.
 */
export const histograms = {
  portal_delivery_seconds: {
    help: "Time from an order's submission to its environment being ready, per image (approval and queueing included)",
    labels: ["image"],
    bounds: [60, 120, 300, 600, 900, 1800, 2700, 3600, 7200, 14400, 86400],
  },
  portal_step_duration_seconds: {
    help: "Time a successful provisioning step took, per step and host kind",
    labels: ["step", "host_kind"],
    bounds: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
  },
} as const satisfies Record<string, { help: string; labels: readonly string[]; bounds: readonly number[] }>;

export type HistogramName = keyof typeof histograms;
type LabelsOf<N extends HistogramName> = Record<(typeof histograms)[N]["labels"][number], string>;

/** The label set as stored: JSON with the keys in the histogram's own order. */
function labelKey(name: HistogramName, labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(histograms[name].labels.map((l) => [l, labels[l] ?? ""])));
}

/**
 * Adds one observation of `value` (seconds) to histogram `name` with `labels`, in `db` (a
 * transaction, when the caller has one). One statement; bounds changed in the code start the
 * row again.
 */
export async function observe<N extends HistogramName>(db: Db, name: N, labels: LabelsOf<N>, value: number): Promise<void> {
  if (!Number.isFinite(value) || value < 0) return;
  const bounds = [...histograms[name].bounds];
  const increments = bounds.map((b) => (value <= b ? 1 : 0));
  const boundsSql = sql`${`{${bounds.join(",")}}`}::double precision[]`;
  const incrementsSql = sql`${`{${increments.join(",")}}`}::bigint[]`;
  await db
    .insert(metricHistograms)
    .values({ name, labels: labelKey(name, labels), bounds, buckets: increments, sum: value, count: 1 })
    .onConflictDoUpdate({
      target: [metricHistograms.name, metricHistograms.labels],
      set: {
        buckets: sql`case when ${metricHistograms.bounds} = ${boundsSql}
          then array(select a + b from unnest(${metricHistograms.buckets}, ${incrementsSql}) as t(a, b))
          else ${incrementsSql} end`,
        sum: sql`case when ${metricHistograms.bounds} = ${boundsSql} then ${metricHistograms.sum} + ${value} else ${value} end`,
        count: sql`case when ${metricHistograms.bounds} = ${boundsSql} then ${metricHistograms.count} + 1 else 1 end`,
        bounds: boundsSql,
      },
    });
}

/**
 * Adds an observation without letting a failure of it fail the caller's work: a figure lost
 * is better than a step or a delivery reported as failed because of it. Says so in the log.
 */
export async function observeQuietly<N extends HistogramName>(db: Db, name: N, labels: LabelsOf<N>, value: number): Promise<void> {
  await observe(db, name, labels, value).catch((err) => {
    console.warn(`[metrics] ${name} not recorded: ${err instanceof Error ? err.message : err}`);
  });
}

export type StoredHistogram = { labels: Record<string, string>; bounds: number[]; buckets: number[]; sum: number; count: number };

/** Every label set of histogram `name` with its cumulative counts (rows whose bounds are out of date are left out). */
export async function readHistogram(db: Db, name: HistogramName): Promise<StoredHistogram[]> {
  const rows = await db.select().from(metricHistograms).where(sql`${metricHistograms.name} = ${name}`);
  const bounds = histograms[name].bounds as readonly number[];
  return rows
    .filter((r) => r.bounds.length === bounds.length && r.bounds.every((b, i) => b === bounds[i]))
    .map((r) => ({ labels: JSON.parse(r.labels) as Record<string, string>, bounds: r.bounds, buckets: r.buckets.map(Number), sum: r.sum, count: Number(r.count) }));
}
