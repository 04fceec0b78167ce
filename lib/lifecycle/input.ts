import { z } from "zod";

/** `POST /api/v1/environments/:id/migrate` and the order page's "Move to another host" form. */
export const migrateInput = z.strictObject({
  host: z.string().trim().min(1, "Choose a target host").max(100, "At most 100 characters"),
  /** Accepts a cold move (the guest is down while it moves) where the host kind has no live migration. */
  cold: z.boolean().optional(),
});
export type MigrateInput = z.infer<typeof migrateInput>;

/** `POST /api/v1/environments/:id/snapshots` and the order page's "Take snapshot" form. */
export const snapshotInput = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "Name the snapshot")
    .max(64, "At most 64 characters")
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "Letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit"),
});
export type SnapshotInput = z.infer<typeof snapshotInput>;

/** `POST /api/v1/environments/:id/resize`: the catalog size (flavor slug) to change to. */
export const resizeInput = z.strictObject({
  flavor: z.string().trim().min(1, "Choose a size").max(100, "At most 100 characters"),
});
export type ResizeInput = z.infer<typeof resizeInput>;

/** A reinstall; keepData keeps the data filesystem (/data) where the host kind can. An empty body is a plain reinstall. */
export const reinstallInput = z.strictObject({
  keepData: z.boolean().default(false),
});
export type ReinstallInput = z.infer<typeof reinstallInput>;

/** An approver's decision on a held resize; a rejection may say why (the owner reads it). */
export const resizeDecisionInput = z.strictObject({
  approve: z.boolean(),
  reason: z.string().trim().max(500, "At most 500 characters").optional(),
});
