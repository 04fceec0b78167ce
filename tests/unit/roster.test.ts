import { describe, expect, it } from "vitest";
import { parseRoster } from "@/lib/courses/roster";
import { formatMessage } from "@/lib/mail/smtp";

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

describe("outgoing mail format", () => {
  it("has the headers a mail server expects, dot-stuffs lines and encodes non-ASCII", () => {
    const raw = formatMessage("portal@uni.example", { to: "ann@uni.example", subject: "Lab für Ann", text: "Hi\n.hidden line\nbye" }, new Date("2026-03-01T10:00:00Z"));
    expect(raw).toContain("From: portal@uni.example\r\nTo: ann@uni.example\r\n");
    expect(raw).toContain(`Subject: =?UTF-8?B?${Buffer.from("Lab für Ann").toString("base64")}?=`);
    expect(raw).toContain("Date: Sun, 01 Mar 2026 10:00:00 +0000");
    expect(raw).toContain("Content-Transfer-Encoding: 7bit\r\n\r\nHi\r\n..hidden line\r\nbye\r\n");
  });

  it("refuses header injection and addresses that are not addresses", () => {
    expect(() => formatMessage("portal@uni.example", { to: "ann@uni.example", subject: "x\r\nBcc: all@uni.example", text: "" })).toThrow(/line breaks/);
    expect(() => formatMessage("portal@uni.example", { to: "ann@uni.example>\r\nRCPT TO:<x@y", subject: "x", text: "" })).toThrow(/not a mail address/);
  });
});
