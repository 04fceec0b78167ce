import { sql } from "drizzle-orm";
import { bigint, doublePrecision, index, integer, pgTable, real, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { hosts } from "./hosts";
import { environments } from "./orders";

/** Raw points every USAGE_SAMPLE_MS, kept 24 h; 10-minute averages of them, kept 30 days. */
export const usageResolutions = ["raw", "10m"] as const;
export type UsageResolution = (typeof usageResolutions)[number];

/**
 * What a running environment or an active host used (lib/usage): one row per subject, time
 * and resolution. `subject_id` is the environment's id (scope environment) or the host's
 * (scope host); `host_id` is the host either way, so a host's removal takes its rows along.
 * Raw rows also keep the cumulative counters they were computed from (CPU seconds, network
 * bytes), so the next sample's rates come from the database, whichever worker takes it.
 */
export const usageSamples = pgTable(
  "usage_samples",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    scope: text("scope", { enum: ["environment", "host"] }).notNull(),
    subjectId: uuid("subject_id").notNull(),
    environmentId: uuid("environment_id").references(() => environments.id, { onDelete: "cascade" }),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    resolution: text("resolution", { enum: usageResolutions }).notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    /** Share of the subject's vCPUs (a host: of its CPUs) busy since the previous sample, 0-100; null on the first. */
    cpuPercent: real("cpu_percent"),
    memoryBytes: bigint("memory_bytes", { mode: "number" }),
    diskBytes: bigint("disk_bytes", { mode: "number" }),
    rxBytesPerSec: real("rx_bytes_per_sec"),
    txBytesPerSec: real("tx_bytes_per_sec"),
    /** How many raw points a downsampled row averages (1 for raw rows). */
    points: integer("points").notNull().default(1),
    // Cumulative counters of raw rows (null on downsampled ones): the next sample's rates.
    cpuSeconds: doublePrecision("cpu_seconds"),
    rxBytesTotal: bigint("rx_bytes_total", { mode: "number" }),
    txBytesTotal: bigint("tx_bytes_total", { mode: "number" }),
  },
  (t) => [
    // One point per subject, resolution and time: downsampling upserts into it.
    uniqueIndex("usage_samples_subject_idx").on(t.subjectId, t.resolution, t.at),
    // Pruning by age.
    index("usage_samples_age_idx").on(t.resolution, t.at),
    // A host's own newest points (/metrics).
    index("usage_samples_host_idx").on(t.hostId, t.at).where(sql`${t.scope} = 'host' and ${t.resolution} = 'raw'`),
  ],
);
