import { describe, expect, it } from "vitest";
import { dateTimeField, parseDateTime } from "@/lib/validation/date-time";
import { formatDateTime } from "@/components/format";

const at = (text: string) => {
  const r = parseDateTime(text);
  return r instanceof Date ? r.toISOString() : r.problem;
};

describe("a date field", () => {
  it("reads the portal's own form as UTC, with or without seconds and zone", () => {
    expect(at("2026-12-06 11:59")).toBe("2026-12-06T11:59:00.000Z");
    expect(at(" 2026-12-06 11:59:30 ")).toBe("2026-12-06T11:59:30.000Z");
    expect(at("2026-12-06 11:59 UTC")).toBe("2026-12-06T11:59:00.000Z");
    expect(at("2026-12-06")).toBe("2026-12-06T00:00:00.000Z");
  });

  it("reads the T form of older links and ISO 8601 with a zone", () => {
    expect(at("2026-12-06T11:59")).toBe("2026-12-06T11:59:00.000Z");
    expect(at("2026-12-06T11:59:00.250Z")).toBe("2026-12-06T11:59:00.250Z");
    expect(at("2026-12-06T13:59+02:00")).toBe("2026-12-06T11:59:00.000Z");
    expect(at("2026-12-06T06:59-0500")).toBe("2026-12-06T11:59:00.000Z");
  });

  it("reads back what the pages print", () => {
    const now = new Date("2026-03-01T07:05:00Z");
    expect(at(formatDateTime(now))).toBe(now.toISOString());
  });

  it("says what is wrong with anything else", () => {
    expect(at("12/06/2026, 11:59 AM")).toBe("Use a date and time like 2026-12-06 11:59 (UTC), or a day like 2026-12-06");
    expect(at("yesterday")).toMatch(/^Use a date and time like/);
    expect(at("2026-02-30 10:00")).toBe("2026-02-30 is not a day of the calendar");
    expect(at("2026-13-45")).toBe("2026-13-45 is not a day of the calendar");
    expect(at("2026-12-06 24:00")).toBe("24:00 is not a time of day (00:00 to 23:59)");
    expect(at("2026-12-06 11:60")).toBe("11:60 is not a time of day (00:00 to 23:59)");
    expect(at("0999-12-31")).toBe("Use a date between the years 1000 and 9999");
  });

  it("leaves an empty field out and refuses what is not text", () => {
    expect(dateTimeField.parse("")).toBeUndefined();
    expect(dateTimeField.parse("  ")).toBeUndefined();
    expect(dateTimeField.parse(undefined)).toBeUndefined();
    expect(dateTimeField.safeParse(5).success).toBe(false);
    expect(dateTimeField.parse("2026-12-06 11:59")).toEqual(new Date("2026-12-06T11:59:00Z"));
  });
});
