import { z } from "zod";

/** `POST /api/v1/environments/:id/restore`. */
export const restoreInput = z.strictObject({
  backup: z.string().uuid("Choose one of the environment's backups (its id)"),
  /** In place: the environment itself comes back from the backup, with its name, addresses and MACs. */
  mode: z.enum(["in-place"], { message: "mode must be \"in-place\": this version restores an environment onto itself" }),
});
export type RestoreInput = z.infer<typeof restoreInput>;
