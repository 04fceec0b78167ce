/** Keyset pagination helpers: a cursor names the last row of a page; anything else is refused. */
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, isCursorTime, pageOf } from "@/lib/validation/cursor";

describe("cursors", () => {
  it("give back the parts they were made of, and nothing for text that is not one", () => {
    const c = encodeCursor(["2026-12-06 14:03:51.634123+00", "8f1c0c9e-1f7a-4c56-9d0b-0b6c2a1d9e11"]);
    expect(decodeCursor(c, 2)).toEqual(["2026-12-06 14:03:51.634123+00", "8f1c0c9e-1f7a-4c56-9d0b-0b6c2a1d9e11"]);
    expect(decodeCursor(c, 3)).toBeNull();
    for (const bad of ["", "x", "not-a-cursor", encodeCursor(["a"]), Buffer.from('[1,"a"]').toString("base64url"), Buffer.from("{}").toString("base64url"), "\u0000"]) {
      expect(decodeCursor(bad, 2)).toBeNull();
    }
  });

  it("accept only a real timestamp in PostgreSQL's form", () => {
    for (const ok of ["2026-12-06 14:03:51.634123+00", "2026-12-06 14:03:51+00", "2026-12-06T14:03:51.634Z", "2026-12-06 14:03:51-05:30"]) expect(isCursorTime(ok), ok).toBe(true);
    for (const bad of ["March 7, 2024", "2026-13-01 10:00:00+00", "2026-02-30 10:00:00+00", "2026-02-28 24:00:00+00", "2026-12-06", "2026-12-06 14:03:51.634123+00; drop table orders"]) {
      expect(isCursorTime(bad), bad).toBe(false);
    }
  });

  it("cut a page from rows read with one more, and point after its last row", () => {
    const rows = [1, 2, 3, 4].map((n) => ({ n }));
    const full = pageOf(rows, 3, (r) => [String(r.n)]);
    expect(full.rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(decodeCursor(full.nextCursor!, 1)).toEqual(["3"]);
    expect(pageOf(rows.slice(0, 3), 3, (r) => [String(r.n)]).nextCursor).toBeNull();
  });
});
