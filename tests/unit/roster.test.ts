import { describe, expect, it } from "vitest";
import { parseRoster } from "@/lib/courses/roster";

describe("CSV roster", () => {
  it("reads e-mail and name with a header in any column order, quoted names with commas, and CRLF lines", () => {
    const r = parseRoster('name,email\r\n"Doe, Jane",Jane.Doe@Uni.example\r\nBob Byte,bob@uni.example\r\n');
    expect(r.errors).toEqual([]);
    expect(r.students).toEqual([
      { line: 2, email: "jane.doe@uni.example", name: "Doe, Jane" },
      { line: 3, email: "bob@uni.example", name: "Bob Byte" },
    ]);
  });

  it("works without a header and without names (the name is the e-mail's local part); skips blank and # lines", () => {
    const r = parseRoster("# week 1\nann@uni.example\n\ncarl@uni.example, Carl\n");
    expect(r.students).toEqual([
      { line: 2, email: "ann@uni.example", name: "ann" },
      { line: 4, email: "carl@uni.example", name: "Carl" },
    ]);
  });

  it("accepts semicolons (spreadsheets in many locales)", () => {
    const r = parseRoster("email;name\nann@uni.example;Ann A.\n");
    expect(r.students).toEqual([{ line: 2, email: "ann@uni.example", name: "Ann A." }]);
  });

  it("reports every bad line with its line number", () => {
    const r = parseRoster('email,name\nann@uni.example,Ann\nnot-an-address,Bob\n,Nobody\n"open quote,Carl\nok@uni.example\n');
    expect(r.errors).toEqual([
      { line: 3, message: '"not-an-address" is not an e-mail address' },
      { line: 4, message: "no e-mail address" },
      { line: 5, message: "a quoted field is not closed" },
    ]);
    expect(r.students.map((s) => s.email)).toEqual(["ann@uni.example", "ok@uni.example"]);
  });

  it("keeps a duplicate once and says where it appeared first, ignoring case", () => {
    const r = parseRoster("ann@uni.example,Ann\nbob@uni.example\nANN@uni.example,Ann again\n");
    expect(r.students.map((s) => s.email)).toEqual(["ann@uni.example", "bob@uni.example"]);
    expect(r.duplicates).toEqual([{ line: 3, message: "ann@uni.example is already on line 1; kept once" }]);
    expect(r.errors).toEqual([]);
  });
});
