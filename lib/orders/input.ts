import { z } from "zod";
import { orderPurposes } from "../db/schema/enums";
import { HOSTNAME, numeric } from "../validation/fields";
import { orderRecipeFields } from "../recipes/order-input";

/**
 * Order input, shared by the order form (validation as you type) and the API. No server
 * imports here: the browser loads this file too.
 */
export const MAX_LEASE_DAYS = 365;
/** The lease of an order that names none. */
export const DEFAULT_LEASE_DAYS = 14;

export { orderPurposes };

// Strict: a misspelt field (say `leaseDay`) is refused with a message, not silently ignored.
export const orderInput = z.strictObject({
  image: z.string().trim().min(1, "Choose an image").max(100),
  flavor: z.string().trim().min(1, "Choose a size").max(100),
  network: z.string().trim().min(1).max(100).optional(),
  name: z
    .string()
    .trim()
    .min(3, "Name needs at least 3 characters")
    .max(32, "Name can have at most 32 characters")
    .regex(HOSTNAME, "Use lowercase letters, digits and hyphens; start with a letter, end with a letter or digit"),
  purpose: z.enum(orderPurposes, { message: "Purpose is one of test, development, database, web" }).optional(),
  /** The group the order counts against (slug or id); the user's first group when left out. */
  group: z.string().trim().min(1).max(100).optional(),
  leaseDays: numeric(
    z
      .number({ message: "Lease is a number of days" })
      .int("Lease is a whole number of days")
      .min(1, "Lease is at least 1 day")
      .max(MAX_LEASE_DAYS, `Lease is at most ${MAX_LEASE_DAYS} days`),
  ).optional(),
  /** Recipe parameters, uploads, accounts and settings: shapes here, what the image's recipe allows in createOrder. */
  ...orderRecipeFields,
});

export type OrderInput = z.infer<typeof orderInput>;

/** Approving an order that fails pre-flight needs `override: true` and a reason (audited). */
export const decisionInput = z
  .strictObject({
    reason: z.string().trim().max(500, "Reason can have at most 500 characters").optional(),
    override: z.boolean().optional(),
  })
  .refine((v) => !v.override || (v.reason?.length ?? 0) >= 3, { path: ["reason"], message: "Say why you approve despite the failed checks" });

export const rejectInput = z.strictObject({
  reason: z.string().trim().min(3, "Say why the order is rejected").max(500, "Reason can have at most 500 characters"),
});
