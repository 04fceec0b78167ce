import { sql } from "drizzle-orm";
import { integer, jsonb, pgTable, serial, text, timestamp, uuid, index, uniqueIndex, bigint, boolean } from "drizzle-orm/pg-core";
import { users, groups } from "./users";
import { images, flavors } from "./catalog";
import { hosts } from "./hosts";
import { networks } from "./networks";

/** The recipe an order was made with and its checked parameters (never a secret). */
export type OrderRecipe = { slug: string; version: string; params: Record<string, unknown> };
export type OrderAccount = { name: string; uid: number; groups: string[]; sshKeys: string };
export type OrderSettings = { sysctl: Record<string, string>; env: Record<string, string> };

export const orderStatuses = [
  "submitted", "pending_approval", "approved", "rejected", "queued", "provisioning",
  "ready", "failed", "cancelled", "expiring", "retiring", "retired",
] as const;
export type OrderStatus = (typeof orderStatuses)[number];

import { orderPurposes as purposes } from "./enums";

export const orders = pgTable(
  "orders",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id").notNull().references(() => users.id),
    groupId: uuid("group_id").notNull().references(() => groups.id),
    imageId: uuid("image_id").notNull().references(() => images.id),
    flavorId: uuid("flavor_id").notNull().references(() => flavors.id),
    networkId: uuid("network_id").notNull().references(() => networks.id),
    name: text("name").notNull(),
    purpose: text("purpose", { enum: purposes }).notNull(),
    leaseDays: integer("lease_days").notNull(),
    status: text("status", { enum: orderStatuses }).notNull().default("submitted"),
    /** Why the order is where it is: the policy decision, or the approver's reason. */
    reason: text("reason"),
    decidedBy: uuid("decided_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    readyAt: timestamp("ready_at", { withTimezone: true }),
    /** When policy or an approver decided (approved or rejected): the end of the approval wait. */
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    /** When the order first joined the queue for a worker: the start of the queue wait. */
    queuedAt: timestamp("queued_at", { withTimezone: true }),
    /**
     * The recipe's parameters as checked when the order was made (the image's recipe, at its
     * version then); uploads are in order_uploads, generated secrets in order_secrets.
     */
    recipe: jsonb("recipe").$type<OrderRecipe>(),
    /** Accounts the order adds to the guest, with the uids the portal gave them. */
    accounts: jsonb("accounts").$type<OrderAccount[]>(),
    /** sysctl values and service environment variables the order asked for (allowed by its recipe). */
    settings: jsonb("settings").$type<OrderSettings>(),
  },
  (t) => [
    // "My orders", newest first (and every lookup by owner, e.g. the user's quota).
    index("orders_user_created_idx").on(t.userId, t.createdAt, t.id),
    // Every order, newest first (admins' list, delivery figures by submission time).
    index("orders_created_idx").on(t.createdAt, t.id),
    // Held orders oldest first (approvals), and every lookup by status.
    index("orders_status_created_idx").on(t.status, t.createdAt, t.id),
    // Orders that count against a quota or hold a name: the quota total runs under the group's
    // lock on every order, the name check under the name's lock.
    index("orders_group_live_idx").on(t.groupId).where(sql`${t.status} not in ('rejected', 'cancelled', 'retired')`),
    // A user's orders that count against their quota, under the user's quota lock: the live
    // ones only, however long the user's history of retired orders.
    index("orders_user_live_idx").on(t.userId).where(sql`${t.status} not in ('rejected', 'cancelled', 'retired')`),
    index("orders_name_live_idx").on(t.name).where(sql`${t.status} not in ('rejected', 'cancelled', 'retired')`),
  ],
);

/** The login the glue step set up on a guest. */
export type GuestLogin = { user: string; keys: { name: string; fingerprint: string }[] };

export const environmentStates = ["creating", "running", "stopped", "migrating", "deleting", "deleted", "error"] as const;

export const environments = pgTable(
  "environments",
  {
  id: uuid("id").primaryKey().defaultRandom(),
  orderId: uuid("order_id").notNull().unique().references(() => orders.id),
  hostId: uuid("host_id").notNull().references(() => hosts.id),
  hostname: text("hostname").notNull(),
  state: text("state", { enum: environmentStates }).notNull().default("creating"),
  vcpus: integer("vcpus").notNull(),
  memoryMb: integer("memory_mb").notNull(),
  diskGb: integer("disk_gb").notNull(),
  placement: text("placement").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  deletedAt: timestamp("deleted_at", { withTimezone: true }),
  /**
   * How the owner logs in, as the glue step set it up: the user and the owner's SSH keys it
   * installed (name and fingerprint, never the key). Null until glue ran.
   */
  login: jsonb("login").$type<GuestLogin>(),
  },
  // What each host holds (placement, host usage): live environments only.
  (t) => [
    index("environments_host_live_idx").on(t.hostId).where(sql`${t.state} <> 'deleted'`),
    // Host usage (usageOfHosts) sums these from the index alone; the few still being created
    // are checked for a failed order through the next one.
    index("environments_host_usage_idx").on(t.hostId, t.vcpus, t.memoryMb, t.diskGb).where(sql`${t.state} not in ('deleted', 'creating')`),
    index("environments_creating_idx").on(t.hostId).where(sql`${t.state} = 'creating'`),
    // Leases, soonest end first.
    index("environments_live_expiry_idx").on(t.expiresAt, t.id).where(sql`${t.state} <> 'deleted'`),
  ],
);

export const runKinds = ["provision", "destroy"] as const;
export const runStatuses = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export const stepStatuses = ["pending", "running", "succeeded", "failed", "skipped"] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const pipelineRuns = pgTable(
  "pipeline_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orderId: uuid("order_id").notNull().references(() => orders.id),
    kind: text("kind", { enum: runKinds }).notNull(),
    status: text("status", { enum: runStatuses }).notNull().default("queued"),
    /** Bumped on each retry; part of the job id so a retry is a new job. */
    attempt: integer("attempt").notNull().default(1),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /**
     * The worker executing the run and until when its claim holds: renewed every few seconds
     * while the run executes, released when it stops. A run whose lease expired lost its
     * worker (killed, cut off) and is taken over; a live lease keeps a second worker out.
     */
    leaseOwner: text("lease_owner"),
    leasedUntil: timestamp("leased_until", { withTimezone: true }),
    /**
     * Why the run is not moving although it is queued: its host's owning worker is offline
     * ("waiting for worker qemu-box (offline since ...)"); cleared when that worker takes it.
     */
    waitingFor: text("waiting_for"),
    /** A rebuild (reinstall) that keeps the guest's data filesystem: its disk stays, the image around it is new. */
    keepData: boolean("keep_data").notNull().default(false),
  },
  (t) => [
    index("pipeline_runs_order_idx").on(t.orderId),
    index("pipeline_runs_status_idx").on(t.status),
    // The queue-wait estimate: the newest provision runs a worker started.
    index("pipeline_runs_started_idx").on(t.startedAt).where(sql`${t.kind} = 'provision' and ${t.startedAt} is not null`),
  ],
);

export const pipelineSteps = pgTable(
  "pipeline_steps",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    runId: uuid("run_id").notNull().references(() => pipelineRuns.id),
    position: integer("position").notNull(),
    phase: text("phase", { enum: ["mk_image", "mk_virtual", "teardown"] }).notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: stepStatuses }).notNull().default("pending"),
    attempt: integer("attempt").notNull().default(0),
    error: text("error"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** What the portal expected this step to take when it started (learned from past runs). */
    estimateMs: integer("estimate_ms"),
    /** The worker (WORKER_ID) that ran the step's latest attempt. */
    workerId: text("worker_id"),
  },
  (t) => [
    index("pipeline_steps_run_idx").on(t.runId),
    // The step estimator reads the newest successful runs of each step.
    index("pipeline_steps_succeeded_idx").on(t.name, t.finishedAt).where(sql`${t.status} = 'succeeded'`),
  ],
);

export const stepLogs = pgTable(
  "step_logs",
  {
    id: serial("id").primaryKey(),
    stepId: uuid("step_id").notNull().references(() => pipelineSteps.id),
    attempt: integer("attempt").notNull(),
    line: text("line").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("step_logs_step_idx").on(t.stepId)],
);

/**
 * What the sim driver has "built" on its hosts: stands in for LVs, zones and domains, so a
 * step can check whether its work is already done and the tests can count effects.
 */
export const simObjects = pgTable("sim_objects", {
  id: serial("id").primaryKey(),
  hostId: uuid("host_id").notNull().references(() => hosts.id),
  kind: text("kind").notNull(),
  name: text("name").notNull(),
  state: text("state").notNull(),
  createdCount: integer("created_count").notNull().default(1),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex("sim_objects_name_idx").on(t.hostId, t.kind, t.name)]);

/**
 * Who did what, when and from where. Append-only: a trigger (drizzle/*_audit_append_only.sql)
 * refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    actorId: uuid("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** The client's address (nearest X-Forwarded-For entry) and browser or tool. */
    sourceIp: text("source_ip"),
    userAgent: text("user_agent"),
    /** The target's state before and after the action, where it has one. */
    before: jsonb("before").$type<Record<string, unknown>>(),
    after: jsonb("after").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("audit_events_at_idx").on(t.at, t.id),
    index("audit_events_actor_idx").on(t.actorId),
    index("audit_events_target_idx").on(t.targetId),
    // Filtering by action, newest first; also lists the distinct actions without a scan.
    index("audit_events_action_at_idx").on(t.action, t.at),
  ],
);
