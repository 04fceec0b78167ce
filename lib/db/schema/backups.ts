import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { groups, users } from "./users";
import { environments, orders } from "./orders";
import { environmentActions } from "./lifecycle";

/** "damaged": the file no longer matches its checksum (found by a check or a restore); it is never restored. "pruned": removed by the retention of its policy (keepLast). */
export const backupStatuses = ["queued", "running", "succeeded", "failed", "damaged", "pruned"] as const;
export type BackupStatus = (typeof backupStatuses)[number];

/**
 * What a backup keeps besides the disk: the environment as it was ordered, so an in-place
 * restore can check it still matches and a restore as a new order can repeat it.
 */
export type BackupDefinition = {
  hostname: string;
  host: { name: string; kind: string };
  image: string;
  flavor: { vcpus: number; memoryMb: number; diskGb: number };
  addresses: { network: string; ip: string; mac: string }[];
  /** What the driver's disk copy is (e.g. "qcow2", "sim-volume"), before compression. */
  diskFormat: string;
};

/**
 * One backup of an environment's disk: a compressed file in the backup store (BACKUP_DIR),
 * written by the `backup` lifecycle action `actionId`. `sha256` is of the compressed file as
 * written; a file that no longer matches it is damaged and is never restored.
 */
export const backups = pgTable(
  "backups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    orderId: uuid("order_id").notNull().references(() => orders.id),
    actionId: uuid("action_id").notNull().references(() => environmentActions.id),
    status: text("status", { enum: backupStatuses }).notNull().default("queued"),
    /** Path of the compressed disk inside the backup store. */
    file: text("file"),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    sha256: text("sha256"),
    definition: jsonb("definition").$type<BackupDefinition>(),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    verifiedAt: timestamp("verified_at", { withTimezone: true }),
    /** Why it is damaged or not verified; null once verified. */
    verifyNote: text("verify_note"),
    /** The line the backup wrote into the guest before the copy (null: none, the guest was stopped or did not answer). */
    marker: text("marker"),
  },
  (t) => [index("backups_env_idx").on(t.environmentId), index("backups_action_idx").on(t.actionId)],
);

/** Which backup a `restore` or `verify` lifecycle action works on; `mode` is a restore's. */
export const backupActionTargets = pgTable("backup_action_targets", {
  actionId: uuid("action_id").primaryKey().references(() => environmentActions.id),
  backupId: uuid("backup_id").notNull().references(() => backups.id),
  mode: text("mode", { enum: ["in-place", "new"] }),
});

/**
 * A restore as a new environment: order `orderId` was placed for it (quota and policy applied
 * like any order); once it is delivered, a `restore` action (`actionId`) puts the backup's
 * disk on it. Its addresses are its own.
 */
export const backupClones = pgTable("backup_clones", {
  orderId: uuid("order_id").primaryKey().references(() => orders.id),
  backupId: uuid("backup_id").notNull().references(() => backups.id),
  requestedBy: uuid("requested_by").notNull().references(() => users.id),
  actionId: uuid("action_id").references(() => environmentActions.id),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * When an environment is backed up by itself, and how many backups it keeps: `schedule` is
 * "daily", "weekly" or a cron pattern (UTC); a BullMQ job scheduler per environment fires it.
 * After each backup, the oldest beyond `keepLast` are pruned (their files removed).
 */
export const backupPolicies = pgTable("backup_policies", {
  environmentId: uuid("environment_id").primaryKey().references(() => environments.id),
  schedule: text("schedule").notNull(),
  keepLast: integer("keep_last").notNull(),
  /** Scheduled backups are requested in this user's name (who set the policy). */
  setBy: uuid("set_by").notNull().references(() => users.id),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A group's backup rules (admins): how many backups its environments may keep together and
 * how much compressed space (GB) they may take (null: no limit); and, when `requiredSchedule`
 * is set, the policy every delivered environment of the group gets when it has none.
 */
export const groupBackupRules = pgTable("group_backup_rules", {
  groupId: uuid("group_id").primaryKey().references(() => groups.id, { onDelete: "cascade" }),
  maxBackups: integer("max_backups"),
  maxGb: integer("max_gb"),
  requiredSchedule: text("required_schedule"),
  requiredKeepLast: integer("required_keep_last"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
