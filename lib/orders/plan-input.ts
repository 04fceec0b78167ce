import { z } from "zod";
import { orderInput } from "./input";

/**
 * A dry run: the same body as an order, and optionally the host to plan for (an admin's
 * "what would this run on xen-2?"); without it, the host placement would choose. Client-safe.
 */
export const planInput = orderInput.extend({
  host: z
    .string()
    .trim()
    .min(1)
    .max(63, "Host name can have at most 63 characters")
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Host: letters, digits and . _ -")
    .optional(),
});

export type PlanInput = z.infer<typeof planInput>;
