import { z } from "zod";

const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().trim().max(max, `At most ${max} characters`).optional());

/** Dates the database can compare with: years 1000 to 9999 (JavaScript reads years up to 275760). */
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;

/** A date (2026-11-25) or a date and time, in UTC unless it names a zone; empty means no bound. */
export const when = z.preprocess(
  (v) => (typeof v !== "string" ? v : v.trim() === "" ? undefined : /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v.trim()) ? `${v.trim()}Z` : v),
  z
    .string()
    .trim()
    .refine((s) => !Number.isNaN(Date.parse(s)), "Use a date like 2026-11-25 or 2026-11-25T14:00Z")
    .refine((s) => Date.parse(s) >= EARLIEST && Date.parse(s) <= LATEST, "Use a date between the years 1000 and 9999")
    .transform((s) => new Date(s))
    .optional(),
);

/** Filters of the audit log, shared by /admin/audit and GET /api/v1/audit. */
export const auditQuery = z
  .object({
    actor: optionalText(200),
    action: optionalText(100),
    target: optionalText(200),
    q: optionalText(200),
    from: when,
    to: when,
    page: z.coerce.number().int("Page must be a whole number").min(1, "Pages start at 1").max(100_000).default(1),
    perPage: z.coerce.number().int().min(1).max(500).default(50),
    format: z.enum(["json", "csv"]).default("json"),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: "The start must be before the end", path: ["to"] });

export type AuditQuery = z.infer<typeof auditQuery>;

