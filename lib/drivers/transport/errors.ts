import { StepError } from "../types";
import type { RunResult } from "./types";

/** The last `n` non-empty lines of a command's stderr (else stdout), each trimmed, at most 300 characters in all. */
export function lastOutputLines(result: RunResult, n = 3): string {
  const from = result.stderr.trim() ? result.stderr : result.stdout;
  const lines = from.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n);
  const text = lines.join(" | ");
  return text.length > 300 ? `…${text.slice(-299)}` : text;
}

/**
 * The step error for a command that exited non-zero: the program's name, where, the exit code
 * and what it said last on stderr. Only argv[0] is named: arguments may be long or hold
 * paths the customer need not see.
 */
export function commandFailed(argv: readonly string[], result: RunResult, where: string): StepError {
  const tool = argv[0] ?? "command";
  if (result.code === 127) return new StepError(`${tool} is not installed on ${where} (or not on the login user's PATH)`);
  if (result.code === 126) return new StepError(`${tool} exists on ${where} but the login user may not run it`);
  const said = lastOutputLines(result);
  return new StepError(`${tool} failed on ${where} with exit code ${result.code}${said ? `: ${said}` : ""}`);
}

/** Returns the result when the command succeeded, else throws commandFailed(...). */
export function expectSuccess(argv: readonly string[], result: RunResult, where: string): RunResult {
  if (result.code !== 0) throw commandFailed(argv, result, where);
  return result;
}
