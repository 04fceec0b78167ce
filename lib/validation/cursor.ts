import { z } from "zod";
import { UserError } from "../errors";
import { isUuid } from "./ids";

/**
 * Keyset pagination for lists that grow with the database: a page is `limit` rows after the
 * position an opaque `cursor` names (the sort key of the last row of the page before), and
 * the answer gives `nextCursor` (null on the last page). Unlike an offset, reading page 1000
 * costs what page 1 does.
 */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

/** The cursor's parts, or null when it is not one of ours. */
export function decodeCursor(cursor: string, count: number): string[] | null {
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return Array.isArray(parts) && parts.length === count && parts.every((p) => typeof p === "string") ? parts : null;
  } catch {
    return null;
  }
}

/** A timestamp as PostgreSQL writes it (`2026-12-06 14:03:51.634123+00`), the form a cursor carries. */
export function isCursorTime(text: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-]\d\d(:?\d\d)?|Z)$/.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && sec < 60;
}

/** `?limit=&cursor=` of a list: limit defaults to `def` and may not exceed `max`. */
export function pageQuery(def: number, max: number) {
  return {
    limit: z.coerce.number().int("limit must be a whole number").min(1, "limit is at least 1").max(max, `limit is at most ${max}`).default(def),
    cursor: z.string().max(500).optional(),
  };
}

/** A page of `limit` from `rows` read with one row more: the rows and the cursor to the next page. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => string[]): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: rows.length > limit ? encodeCursor(keyOf(page[page.length - 1])) : null };
}

/** Lists of the API that were whole before (users, groups, hosts): per page by default, and at most. */
export const LIST_PER_PAGE = 100;
export const LIST_MAX_PER_PAGE = 500;

/**
 * The position a cursor of a list sorted by a text key then id names (`[key, id]`), null
 * without a cursor; a cursor that is not one of these is refused with 422.
 */
export function afterTextKey(cursor: string | undefined): [string, string] | null {
  if (cursor === undefined) return null;
  const parts = decodeCursor(cursor, 2);
  if (!parts || !isUuid(parts[1])) throw new UserError("Invalid input", 422, { cursor: ["Not a cursor from this list: start again without one"] });
  return [parts[0], parts[1]];
}
