import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { groups, users } from "./users";
import { images, imageVersions } from "./catalog";
import { environments, orders, pipelineRuns } from "./orders";
import { environmentActions } from "./lifecycle";
import { backups } from "./backups";

/**
 * scheduled: waiting for its maintenance window; running: waves under way; paused: no new wave
 * starts (what runs finishes); stopped: by itself (too many failures in a wave, or the window
 * ended) or for good; completed: every environment done, postponed out of it or skipped.
 */
export const campaignStatuses = ["scheduled", "running", "paused", "stopped", "completed"] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];

/** Where one environment of a campaign stands. */
export const campaignTargetStatuses = [
  "pending", "backing_up", "reinstalling", "checking", "done", "failed", "rolling_back", "rolled_back", "postponed", "skipped",
] as const;
export type CampaignTargetStatus = (typeof campaignTargetStatuses)[number];

/** Which environments a campaign updates, as it was asked for. */
export type CampaignSelection =
  | { mode: "group"; groupId: string }
  | { mode: "list"; environmentIds: string[] }
  | { mode: "outdated"; groupId: string | null };

/**
 * A patch campaign: environments of one image reinstalled to `targetVersionId` in waves of
 * `waveSize` within a maintenance window, each backed up first and checked after (the guest's
 * ready line; `healthCheck` names the check). More than the failure threshold failing in one
 * wave stops it. The row is the truth; BullMQ jobs (the `campaign` queue) only move it on:
 * each job is one step of its state machine, `tick` numbers them, and `nextTickAt` says when
 * the next is due, so a worker restart or Redis losing its jobs resumes it (the reconciler).
 */
export const campaigns = pgTable(
  "campaigns",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    imageId: uuid("image_id").notNull().references(() => images.id),
    targetVersionId: uuid("target_version_id").notNull().references(() => imageVersions.id),
    /** The group the campaign is for (its approvers manage it); null: admins' campaign across groups. */
    groupId: uuid("group_id").references(() => groups.id),
    selection: jsonb("selection").$type<CampaignSelection>().notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    windowEnd: timestamp("window_end", { withTimezone: true }).notNull(),
    waveSize: integer("wave_size").notNull(),
    /** Failures a wave may have before the campaign stops: a count, or a percentage of the wave. */
    thresholdKind: text("threshold_kind", { enum: ["count", "percent"] }).notNull(),
    thresholdValue: integer("threshold_value").notNull(),
    /** "ready-line": the guest's ready line after the reinstall (the driver's wait until ready). */
    healthCheck: text("health_check").notNull().default("ready-line"),
    /** How many days an owner may postpone their environment (once, never past its lease). */
    postponeMaxDays: integer("postpone_max_days").notNull(),
    status: text("status", { enum: campaignStatuses }).notNull().default("scheduled"),
    /** Why it stopped (or paused), in words. */
    reason: text("reason"),
    /** The wave started last (0: none yet). */
    wave: integer("wave").notNull().default(0),
    createdBy: uuid("created_by").notNull().references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** Number of the next job (its id is campaign-<id>-t<tick>); bumped by each job. */
    tick: integer("tick").notNull().default(0),
    /** When the next job is due; null: none (finished, or paused with nothing running). */
    nextTickAt: timestamp("next_tick_at", { withTimezone: true }),
    /** A job working on the campaign holds it until then (a second one at once does nothing). */
    tickLeaseUntil: timestamp("tick_lease_until", { withTimezone: true }),
  },
  (t) => [index("campaigns_created_idx").on(t.createdAt), index("campaigns_due_idx").on(t.nextTickAt).where(sql`${t.nextTickAt} is not null`)],
);

/** One environment of a campaign: its wave, outcome, timings and what it made (backup, runs). */
export const campaignTargets = pgTable(
  "campaign_targets",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    campaignId: uuid("campaign_id").notNull().references(() => campaigns.id),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    orderId: uuid("order_id").notNull().references(() => orders.id),
    /** Order within the campaign: waves take the pending ones in this order. */
    position: integer("position").notNull(),
    /** The wave it ran in (null until its wave starts). */
    wave: integer("wave"),
    status: text("status", { enum: campaignTargetStatuses }).notNull().default("pending"),
    /** The version it was on before (a rollback goes back to it). */
    fromVersionId: uuid("from_version_id").references(() => imageVersions.id),
    backupActionId: uuid("backup_action_id").references(() => environmentActions.id),
    backupId: uuid("backup_id").references(() => backups.id),
    runId: uuid("run_id").references(() => pipelineRuns.id),
    rollbackRunId: uuid("rollback_run_id").references(() => pipelineRuns.id),
    /** What it is doing now (the pipeline step), or why it waits. */
    note: text("note"),
    /** Why it failed (or why its rollback failed), in words the owner may read. */
    error: text("error"),
    /** The owner postponed it until then (once); past the window's end it leaves the campaign. */
    postponedUntil: timestamp("postponed_until", { withTimezone: true }),
    postponedBy: uuid("postponed_by").references(() => users.id),
    startedAt: timestamp("started_at", { withTimezone: true }),
    reinstallStartedAt: timestamp("reinstall_started_at", { withTimezone: true }),
    checkStartedAt: timestamp("check_started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    rollbackStartedAt: timestamp("rollback_started_at", { withTimezone: true }),
    rolledBackAt: timestamp("rolled_back_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("campaign_targets_env_idx").on(t.campaignId, t.environmentId),
    index("campaign_targets_environment_idx").on(t.environmentId),
  ],
);
