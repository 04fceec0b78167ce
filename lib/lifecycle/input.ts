import { z } from "zod";

/** `POST /api/v1/environments/:id/migrate` and the order page's "Move to another host" form. */
export const migrateInput = z.strictObject({
  host: z.string().trim().min(1, "Choose a target host").max(100, "At most 100 characters"),
  /** Accepts a cold move (the guest is down while it moves) where the host kind has no live migration. */
  cold: z.boolean().optional(),
});
export type MigrateInput = z.infer<typeof migrateInput>;
