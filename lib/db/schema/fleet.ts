import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";
import { hosts } from "./hosts";
import { environments } from "./orders";
import { environmentActions } from "./lifecycle";
import { hostKinds } from "./catalog";

/**
 * Why a batch of moves runs: `evacuate` empties one host for maintenance (drained first,
 * offline once empty); `rebalance` runs the moves a rebalance plan proposed for a kind of host.
 */
export const evacuationKinds = ["evacuate", "rebalance"] as const;
export type EvacuationKind = (typeof evacuationKinds)[number];

/** `completed`: every environment moved; `incomplete`: some could not, each move says why. */
export const evacuationStatuses = ["running", "completed", "incomplete"] as const;
export type EvacuationStatus = (typeof evacuationStatuses)[number];

export const evacuationMoveStatuses = ["pending", "moving", "moved", "failed"] as const;
export type EvacuationMoveStatus = (typeof evacuationMoveStatuses)[number];

/**
 * A batch of environment moves an admin asked for (host evacuation or rebalance): the row
 * first, then a job on the `fleet` queue that starts up to `parallel` moves at a time (each a
 * lifecycle action) and follows them. The rows are the truth: a worker that restarts picks
 * the batch up where they say it is.
 */
export const evacuations = pgTable(
  "evacuations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind", { enum: evacuationKinds }).notNull(),
    /** The host being emptied (evacuate); null for a rebalance. */
    hostId: uuid("host_id").references(() => hosts.id),
    hostKind: text("host_kind", { enum: hostKinds }).notNull(),
    status: text("status", { enum: evacuationStatuses }).notNull().default("running"),
    /** Moves at a time. */
    parallel: integer("parallel").notNull(),
    requestedBy: uuid("requested_by").references(() => users.id),
    /** The rebalance plan's fingerprint the admin confirmed. */
    fingerprint: text("fingerprint"),
    /** How it ended, in words (the host's state afterwards, what did not move). */
    outcome: text("outcome"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("evacuations_host_idx").on(t.hostId, t.createdAt), index("evacuations_status_idx").on(t.status)],
);

/** What a move measured (the migration's own figures), kept on the move. */
export type EvacuationMoveResult = { totalMs: number; downtimeMs: number | null; transferredBytes: number | null };

/** One environment of a batch: where it goes, how, and what became of it. */
export const evacuationMoves = pgTable(
  "evacuation_moves",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    evacuationId: uuid("evacuation_id").notNull().references(() => evacuations.id),
    /** Order of the moves (largest memory first for an evacuation, the plan's order for a rebalance). */
    position: integer("position").notNull(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    fromHostId: uuid("from_host_id").notNull().references(() => hosts.id),
    /** Chosen by placement when the move starts (evacuate), or fixed by the plan (rebalance). */
    targetHostId: uuid("target_host_id").references(() => hosts.id),
    /** live: the guest keeps running; cold: stopped (or halted) while it moves. */
    mode: text("mode", { enum: ["live", "cold"] }),
    status: text("status", { enum: evacuationMoveStatuses }).notNull().default("pending"),
    /** Why it did not move (failed), or what it waits for (pending). */
    reason: text("reason"),
    /** The lifecycle action (migrate or move) doing it. */
    actionId: uuid("action_id").references(() => environmentActions.id),
    result: jsonb("result").$type<EvacuationMoveResult>(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("evacuation_moves_evacuation_idx").on(t.evacuationId, t.position), index("evacuation_moves_status_idx").on(t.status)],
);

export type Evacuation = typeof evacuations.$inferSelect;
export type EvacuationMove = typeof evacuationMoves.$inferSelect;
