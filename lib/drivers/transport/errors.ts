import { StepError } from "../types";
import { TransportError, type RunResult } from "./types";

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

/**
 * A TransportError (cannot connect, login refused, host key changed, timeout) as the step
 * error a customer and an admin read; "aborted" (the worker is shutting down) and any other
 * error pass through unchanged, so the job is redelivered or reported as internal.
 */
export function transportStepError(e: unknown, where: string): unknown {
  if (!(e instanceof TransportError)) return e;
  switch (e.kind) {
    case "aborted":
      return e;
    case "host-key":
      return new StepError(`host ${where} presented an unexpected host key; an admin must confirm it: ${e.message}`);
    case "auth":
      return new StepError(`host ${where} refused the portal's login: ${e.message}`);
    case "connect":
      return new StepError(`cannot reach host ${where}: ${e.message}`);
    case "timeout":
      return new StepError(`a command on host ${where} did not finish in time: ${e.message}`);
    default:
      return new StepError(`host ${where}: ${e.message}`);
  }
}
