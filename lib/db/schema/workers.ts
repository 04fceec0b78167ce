import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Worker processes, one row per WORKER_ID, refreshed by each worker's heartbeat. A worker whose
 * heartbeat is older than WORKER_OFFLINE_MS is offline: the hosts it owns wait for it.
 */
export const workers = pgTable("workers", {
  id: text("id").primaryKey(),
  /** Machine and pid of the process that last beat under this id. */
  process: text("process").notNull(),
  concurrency: integer("concurrency").notNull(),
  jobsRunning: integer("jobs_running").notNull().default(0),
  /** Jobs finished since the process started. */
  jobsDone: integer("jobs_done").notNull().default(0),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

export type WorkerRow = typeof workers.$inferSelect;
