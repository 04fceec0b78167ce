import { z } from "zod";

/** An extension, as the order page's form and POST /api/v1/leases/:environmentId/extend send it. */
export const extendInput = z.strictObject({
  days: z.coerce
    .number({ message: "Days is a number" })
    .int("Extend by whole days")
    .min(1, "Extend by at least 1 day")
    .max(365, "Extend by at most 365 days at a time"),
  reason: z.string().trim().max(500, "Reason can have at most 500 characters").optional(),
});
export type ExtendInput = z.infer<typeof extendInput>;

export const extensionDecisionInput = z.strictObject({
  reason: z.string().trim().max(500, "Reason can have at most 500 characters").optional(),
});

export const extensionRejectInput = z.strictObject({
  reason: z.string().trim().min(3, "Say why the extension is refused").max(500, "Reason can have at most 500 characters"),
});

export const markReadInput = z.strictObject({
  ids: z.array(z.string().uuid("Not a notification id")).max(500).optional(),
});

/** An admin sets (or with maxDays null removes) a group's or an image's lease limit. */
export const leaseLimitInput = z
  .strictObject({
    group: z.string().trim().min(1).max(100).optional(),
    image: z.string().trim().min(1).max(100).optional(),
    maxDays: z
      .number({ message: "Max days is a number" })
      .int("Max days is a whole number")
      .min(1, "Max days is at least 1")
      .max(3650, "Max days is at most 3650")
      .nullable(),
  })
  .refine((v) => Boolean(v.group) !== Boolean(v.image), { path: ["group"], message: "Name either a group or an image" });
