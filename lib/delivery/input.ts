import { z } from "zod";
import { dateTimeField } from "../validation/date-time";

/** Dashboard ranges a link can name. */
export const deliveryRanges = { "24h": 24, "7d": 24 * 7, "30d": 24 * 30, "90d": 24 * 90, "365d": 24 * 365 } as const;

export const deliveryQuery = z
  .object({
    range: z.enum(Object.keys(deliveryRanges) as [keyof typeof deliveryRanges, ...(keyof typeof deliveryRanges)[]]).optional(),
    from: dateTimeField,
    to: dateTimeField,
  })
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "The start must be before the end", path: ["to"] });

export type DeliveryQuery = z.infer<typeof deliveryQuery>;

/** The time range a delivery query names: from/to when given, else the preset (default 7 days). */
export function deliveryRange(q: DeliveryQuery, now = new Date()): { from: Date; to: Date; label: string } {
  if (q.from || q.to) {
    const to = q.to ?? now;
    const from = q.from ?? new Date(to.getTime() - deliveryRanges["7d"] * 3_600_000);
    return { from, to, label: "custom" };
  }
  const key = q.range ?? "7d";
  return { from: new Date(now.getTime() - deliveryRanges[key] * 3_600_000), to: now, label: key };
}
