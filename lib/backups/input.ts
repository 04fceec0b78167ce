import { z } from "zod";

/** `POST /api/v1/environments/:id/restore`. */
export const restoreInput = z
  .strictObject({
    backup: z.string().uuid("Choose one of the environment's backups (its id)"),
    /** In place: the environment itself comes back, with its name, addresses and MACs; new: a new order with its own addresses. */
    mode: z.enum(["in-place", "new"], { message: "mode is \"in-place\" or \"new\"" }),
    /** The new environment's name (mode "new"). */
    name: z.string().trim().min(1).max(32).optional(),
  })
  .refine((r) => r.mode !== "new" || !!r.name, { message: "A restore as a new environment needs its name", path: ["name"] })
  .refine((r) => r.mode !== "in-place" || r.name === undefined, { message: "An in-place restore keeps the environment's name", path: ["name"] });
export type RestoreInput = z.infer<typeof restoreInput>;

/** A cron pattern of five fields (minute hour day month weekday), in UTC. */
const cronPattern = /^\s*[0-9*,/-]+(\s+[0-9A-Za-z*,/-]+){4}\s*$/;

/** `PUT /api/v1/environments/:id/backup-policy`. */
export const backupPolicyInput = z.strictObject({
  schedule: z
    .string()
    .trim()
    .refine((s) => s === "daily" || s === "weekly" || cronPattern.test(s), "schedule is \"daily\", \"weekly\" or a cron pattern of five fields (UTC), e.g. \"30 2 * * *\""),
  keepLast: z.number().int("keepLast is a whole number").min(1, "keepLast is at least 1").max(100, "keepLast is at most 100"),
});
export type BackupPolicyInput = z.infer<typeof backupPolicyInput>;

/** `PUT /api/v1/groups/:id/backup-rules` (admins): null is no limit; `requirePolicy` null requires none. */
export const groupBackupRulesInput = z.strictObject({
  maxBackups: z.number().int("maxBackups is a whole number").min(1, "maxBackups is at least 1").max(100_000).nullable(),
  maxGb: z.number().int("maxGb is a whole number").min(1, "maxGb is at least 1").max(1_000_000).nullable(),
  /** The policy every delivered environment of the group gets when it has none. */
  requirePolicy: backupPolicyInput.nullable().optional(),
});
export type GroupBackupRulesInput = z.infer<typeof groupBackupRulesInput>;
