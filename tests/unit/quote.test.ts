/**
 * shellQuoteArgv is the one function that turns an argument vector into the command line an
 * SSH exec request carries. Each argument must reach the program exactly as given, whatever
 * shell characters it holds: checked here by running the quoted line through real shells.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { shellQuote, shellQuoteArgv } from "@/lib/drivers/transport/quote";

const nasty = [
  "plain",
  "",
  "with space",
  "  leading and trailing  ",
  "tab\there",
  "single'quote",
  "''",
  "'",
  'double"quote',
  "$(touch /tmp/portal-quote-pwned)",
  "`touch /tmp/portal-quote-pwned`",
  "a; touch /tmp/portal-quote-pwned",
  "a && b || c | d & e",
  "$HOME ${PATH} $0 $1 $@ $*",
  "back\\slash\\",
  "glob * ? [a-z] {a,b} ~ ~root",
  "-n",
  "--help",
  "> /tmp/portal-quote-pwned < /etc/passwd",
  "!history #comment",
  "héllo wörld ✓ 日本",
  "%s%n",
  "a=b",
  "'$(echo \"`id`\")'",
];

/** The arguments as the program receives them: `printf '%s\0'` after the shell parsed the line. */
function throughShell(shell: string, argv: string[]): string[] {
  const line = shellQuoteArgv(["printf", "%s\\0", ...argv]);
  const out = execFileSync(shell, ["-c", line], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("shellQuoteArgv", () => {
  it("leaves plain words as they are and single-quotes everything else", () => {
    expect(shellQuoteArgv(["xl", "create", "/etc/xen/env-0005.cfg"])).toBe("xl create /etc/xen/env-0005.cfg");
    expect(shellQuoteArgv(["zfs", "list", "-H", "-o", "name,used"])).toBe("zfs list -H -o name,used");
    expect(shellQuote("with space")).toBe("'with space'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("$(id)")).toBe("'$(id)'");
  });

  for (const shell of ["/bin/sh", "/bin/bash", "/bin/dash"].filter((s) => existsSync(s))) {
    it(`every argument reaches the program verbatim through ${shell} -c`, () => {
      expect(throughShell(shell, nasty)).toEqual(nasty);
      expect(existsSync("/tmp/portal-quote-pwned")).toBe(false);
    });
  }

  it("keeps each argument one argument (no splitting, no globbing)", () => {
    const argv = ["a b", "*", "c\td"];
    expect(throughShell("/bin/sh", argv)).toHaveLength(3);
  });

  it("refuses NUL and line breaks, and an empty command", () => {
    expect(() => shellQuoteArgv(["echo", "a\nb"])).toThrow(/line break/);
    expect(() => shellQuoteArgv(["echo", "a\rb"])).toThrow(/line break/);
    expect(() => shellQuoteArgv(["echo", "a\0b"])).toThrow(/NUL/);
    expect(() => shellQuoteArgv([])).toThrow(/empty/);
  });
});
