/**
 * A command that fails on a host becomes a step error the customer and the admin can read:
 * which program, where, the exit code and the last lines it wrote on stderr.
 */
import { describe, expect, it } from "vitest";
import { commandFailed, expectSuccess, lastOutputLines } from "@/lib/drivers/transport/errors";
import { StepError } from "@/lib/drivers/types";

const result = (code: number, stderr = "", stdout = "") => ({ code, stderr, stdout, durationMs: 5 });

describe("commandFailed", () => {
  it("names the program, the host, the exit code and the last stderr lines", () => {
    const err = commandFailed(
      ["lvcreate", "-L", "20G", "-n", "env-0005", "vg0"],
      result(5, "  Reading volume groups\n  Volume group \"vg0\" has insufficient free space (12 extents): 5120 required.\n"),
      "ssh portal@xen-01:22",
    );
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toBe(
      'lvcreate failed on ssh portal@xen-01:22 with exit code 5: Reading volume groups | Volume group "vg0" has insufficient free space (12 extents): 5120 required.',
    );
  });

  it("keeps only the last three lines, and falls back to stdout when stderr is empty", () => {
    expect(lastOutputLines(result(1, "a\nb\n\nc\nd\n"))).toBe("b | c | d");
    expect(lastOutputLines(result(1, "", "only stdout\n"))).toBe("only stdout");
    expect(lastOutputLines(result(1, "x".repeat(400))).length).toBeLessThanOrEqual(300);
  });

  it("explains a missing program and one the login user may not run", () => {
    expect(commandFailed(["xl", "info"], result(127, "sh: 1: xl: not found"), "xen-01").message).toBe("xl is not installed on xen-01 (or not on the login user's PATH)");
    expect(commandFailed(["zoneadm", "list"], result(126), "sol-01").message).toBe("zoneadm exists on sol-01 but the login user may not run it");
  });

  it("expectSuccess passes a zero exit through and throws otherwise", () => {
    const ok = result(0, "", "fine\n");
    expect(expectSuccess(["true"], ok, "h")).toBe(ok);
    expect(() => expectSuccess(["false"], result(1), "h")).toThrow("false failed on h with exit code 1");
  });
});
