import { describe, expect, it } from "vitest";
import { csvCell, parseCsv, toCsv } from "@/lib/audit/csv";

describe("CSV export cells", () => {
  it("quotes commas, quotes and line breaks, doubling quotes", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(" padded ")).toBe('" padded "');
  });

  it("keeps formulas from running: = + - @ tab and CR get a leading apostrophe", () => {
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tx")).toBe("'\tx");
    expect(csvCell("a=b")).toBe("a=b");
  });

  it("writes null as empty, dates as ISO and objects as JSON", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell(new Date("2026-11-25T14:00:00Z"))).toBe("2026-11-25T14:00:00.000Z");
    expect(csvCell({ status: "ready" })).toBe('"{""status"":""ready""}"');
  });

  it("parses back to the same cells (apart from the formula guard)", () => {
    const rows = [["id", "note"], ["1", 'a "quoted", multi\r\nline'], ["2", ""], ["3", "=1+1"]];
    const parsed = parseCsv(toCsv(rows[0], rows.slice(1)));
    expect(parsed).toEqual([["id", "note"], ["1", 'a "quoted", multi\r\nline'], ["2", ""], ["3", "'=1+1"]]);
  });
});
