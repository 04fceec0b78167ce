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
