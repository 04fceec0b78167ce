import { z } from "zod";

/**
 * Dates and times as people type them in the portal's fields, the form every page prints
 * (`2026-12-06 11:59 UTC`, components/format.ts): a day (`2026-12-06`), or a day and a time
 * (`2026-12-06 11:59`, seconds optional) in UTC. The `T` form (`2026-12-06T11:59`, what
 * browsers' date pickers sent to older links) and an explicit zone (`Z`, ` UTC`, `+02:00`) are
 * read too, so API clients may send ISO 8601.
 */
const FORM = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;

/** The example every message about a date field gives. */
export const DATE_TIME_EXAMPLE = "2026-12-06 11:59";

/** Dates the database can compare with: years 1000 to 9999 (JavaScript reads years up to 275760). */
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;

/** The moment `text` names, or why it names none (a message for the field). */
export function parseDateTime(text: string): Date | { problem: string } {
  const m = FORM.exec(text.trim());
  if (!m) return { problem: `Use a date and time like ${DATE_TIME_EXAMPLE} (UTC), or a day like ${DATE_TIME_EXAMPLE.slice(0, 10)}` };
  const [, y, mo, d, h = "00", mi = "00", s = "00", fraction = "", zone = ""] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return { problem: `${h}:${mi}${m[6] ? `:${s}` : ""} is not a time of day (00:00 to 23:59)` };
  // Date.UTC rolls 2026-02-30 over to March 2: a day that does not exist comes back changed.
  const back = new Date(Date.UTC(year, month - 1, day));
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return { problem: `${y}-${mo}-${d} is not a day of the calendar` };
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const offset = /^[+-]/.test(zone) ? (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) : 0;
  const at = year < 1000 ? Number.NaN : local - offset * 60_000 + Math.floor(Number(`0${fraction}`) * 1000);
  if (!(at >= EARLIEST && at <= LATEST)) return { problem: "Use a date between the years 1000 and 9999" };
  return new Date(at);
}

/** A date field of a filter: empty means no bound; otherwise a moment parseDateTime reads. */
export const dateTimeField = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
  z
    .string({ message: `Use a date and time like ${DATE_TIME_EXAMPLE} (UTC)` })
    .transform((s, ctx) => {
      const at = parseDateTime(s);
      if (at instanceof Date) return at;
      ctx.addIssue({ code: "custom", message: at.problem });
      return z.NEVER;
    })
    .optional(),
);
