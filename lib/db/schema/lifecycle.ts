import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";
import { hosts } from "./hosts";
import { environments } from "./orders";

/** What can be done to a delivered environment after handover. */
export const environmentActionKinds = ["start", "stop", "migrate", "move", "backup", "restore", "verify"] as const;
export type EnvironmentActionKind = (typeof environmentActionKinds)[number];
export const environmentActionStatuses = ["queued", "running", "succeeded", "failed"] as const;
export type EnvironmentActionStatus = (typeof environmentActionStatuses)[number];

/**
 * One requested lifecycle action on a delivered environment (start, stop, live migration,
 * cold move): a row first (the source of truth), then a job on the `lifecycle` queue.
 * `progress`/`note` feed the page while it runs; `result` holds what it measured (e.g. a
 * migration's total time and downtime).
 */
export const environmentActions = pgTable(
  "environment_actions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    action: text("action", { enum: environmentActionKinds }).notNull(),
    status: text("status", { enum: environmentActionStatuses }).notNull().default("queued"),
    requestedBy: uuid("requested_by").references(() => users.id),
    fromHostId: uuid("from_host_id").references(() => hosts.id),
    targetHostId: uuid("target_host_id").references(() => hosts.id),
    /** 0..100 while running. */
    progress: integer("progress").notNull().default(0),
    note: text("note"),
    result: jsonb("result").$type<Record<string, unknown>>(),
    /** A message the customer may read. */
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("environment_actions_env_idx").on(t.environmentId), index("environment_actions_status_idx").on(t.status)],
);
