import { z } from "zod";
import { hostKinds } from "../drivers/types";

/** Client-safe: the host page's Evacuate form and the rebalance page check with these too. */

export const MAX_PARALLEL_MOVES = 8;
export const DEFAULT_PARALLEL_MOVES = 2;

const parallel = z
  .number({ error: `Moves at a time: a whole number from 1 to ${MAX_PARALLEL_MOVES}` })
  .int(`Moves at a time: a whole number from 1 to ${MAX_PARALLEL_MOVES}`)
  .min(1, `Moves at a time: a whole number from 1 to ${MAX_PARALLEL_MOVES}`)
  .max(MAX_PARALLEL_MOVES, `Moves at a time: a whole number from 1 to ${MAX_PARALLEL_MOVES}`);

/** `POST /api/v1/hosts/:id/evacuate`: how many environments move at a time (2 by default). */
export const evacuateInput = z.strictObject({
  parallel: parallel.default(DEFAULT_PARALLEL_MOVES),
});
export type EvacuateInput = z.infer<typeof evacuateInput>;

/**
 * `POST /api/v1/rebalance`: `dryRun: true` proposes moves for the active hosts of `kind`;
 * `dryRun: false` runs the plan whose `fingerprint` the admin was shown (refused if the fleet
 * changed since).
 */
export const rebalanceInput = z
  .strictObject({
    kind: z.enum(hostKinds, { error: `Choose a host kind: ${hostKinds.join(", ")}` }),
    dryRun: z.boolean({ error: "dryRun: true to see the plan, false to run it" }),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "The plan's fingerprint, as the dry run returned it (64 hex digits)")
      .optional(),
    parallel: parallel.default(DEFAULT_PARALLEL_MOVES),
  })
  .superRefine((v, ctx) => {
    if (!v.dryRun && !v.fingerprint) ctx.addIssue({ code: "custom", path: ["fingerprint"], message: "Running a plan needs its fingerprint, as the dry run returned it" });
  });
export type RebalanceInput = z.infer<typeof rebalanceInput>;
