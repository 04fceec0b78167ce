import { boolean, bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";
import { hosts } from "./hosts";
import { environments } from "./orders";
import { flavors } from "./catalog";
import { serviceIpMoves } from "./networks";

/** What can be done to a delivered environment after handover. */
export const environmentActionKinds = ["start", "stop", "migrate", "move", "snapshot", "revert", "delete_snapshot", "resize", "backup", "restore", "verify", "attach_ip", "detach_ip", "credentials"] as const;
export type EnvironmentActionKind = (typeof environmentActionKinds)[number];
/** `held`: a resize that policy holds for an approver; it is queued once approved, failed once rejected. */
export const environmentActionStatuses = ["held", "queued", "running", "succeeded", "failed"] as const;
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
    /** The snapshot a snapshot, revert or delete_snapshot action works on. */
    snapshotId: uuid("snapshot_id").references(() => snapshots.id),
    /** The flavor a resize changes the environment to (the order's flavor until it succeeds). */
    flavorId: uuid("flavor_id").references(() => flavors.id),
    /** The service IP change an attach_ip or detach_ip action runs (a move is an attach_ip on the new environment). */
    serviceIpMoveId: uuid("service_ip_move_id").references(() => serviceIpMoves.id, { onDelete: "set null" }),
    /** A message the customer may read. */
    error: text("error"),
    /**
     * What the guest's hook gets for a `credentials` action: the new password's SCRAM verifier
     * (never the password, which only the request that made it returns); cleared when done.
     */
    hookInput: text("hook_input"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("environment_actions_env_idx").on(t.environmentId), index("environment_actions_status_idx").on(t.status)],
);

export const snapshotStatuses = ["creating", "ready", "deleting", "deleted", "failed"] as const;
export type SnapshotStatus = (typeof snapshotStatuses)[number];

/**
 * A point-in-time copy of an environment's disk (and memory, where the guest ran and the
 * hypervisor saves it) that the owner can revert to: a qcow2 internal snapshot (QEMU), an
 * LVM snapshot volume (Xen) or a ZFS snapshot of the zonepath dataset (zones). `tag` is the
 * name on the host, derived from the id, never from what the user typed.
 */
export const snapshots = pgTable(
  "snapshots",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    name: text("name").notNull(),
    tag: text("tag").notNull(),
    status: text("status", { enum: snapshotStatuses }).notNull().default("creating"),
    /** The guest's memory was saved too (it ran when the snapshot was taken). */
    withMemory: boolean("with_memory").notNull().default(false),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    createdBy: uuid("created_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [index("snapshots_env_idx").on(t.environmentId)],
);
