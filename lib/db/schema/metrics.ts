import { bigint, doublePrecision, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/**
 * Prometheus histograms kept in PostgreSQL, so that every web process serves the same
 * cumulative figures (lib/metrics/histograms.ts): one row per metric and label set, with the
 * count of observations at or below each bound of `bounds` (cumulative, as Prometheus reads
 * them), their sum and their number. Rows only grow; nothing is ever subtracted.
 */
export const metricHistograms = pgTable(
  "metric_histograms",
  {
    name: text("name").notNull(),
    /** The label set as canonical JSON (keys sorted), e.g. {"image":"linux-test"}. */
    labels: text("labels").notNull(),
    bounds: doublePrecision("bounds").array().notNull(),
    buckets: bigint("buckets", { mode: "number" }).array().notNull(),
    sum: doublePrecision("sum").notNull().default(0),
    count: bigint("count", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.name, t.labels] })],
);
