import { z } from "zod";
import { dateTimeField } from "../validation/date-time";

const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().trim().max(max, `At most ${max} characters`).optional());

/** Filters of the audit log, shared by /admin/audit and GET /api/v1/audit. */
export const auditQuery = z
  .object({
    actor: optionalText(200),
    action: optionalText(100),
    target: optionalText(200),
    q: optionalText(200),
    from: dateTimeField,
    to: dateTimeField,
    page: z.coerce.number().int("Page must be a whole number").min(1, "Pages start at 1").max(100_000).default(1),
    perPage: z.coerce.number().int().min(1).max(500).default(50),
    /** The previous page's nextCursor: the page after it, as fast on any page (page then only numbers it). */
    cursor: z.string().max(500).optional(),
    format: z.enum(["json", "csv"]).default("json"),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: "The start must be before the end", path: ["to"] });

export type AuditQuery = z.infer<typeof auditQuery>;

