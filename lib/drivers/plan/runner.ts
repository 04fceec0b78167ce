import { setTimeout as sleep } from "node:timers/promises";
import { TransportError, type RunResult, type Transport } from "../transport/types";
import { StepError, type StepIo } from "../types";
import { commandText, modeText } from "./render";
import type { PlanStep, RunAction, WriteAction } from "./types";

export type RunnerOptions = {
  /** Overrides every `until` interval (tests poll emulators faster than real hosts boot). */
  pollIntervalMs?: number;
  /** Logged first in every step (e.g. that the plan has not been run on a real host of its kind). */
  notice?: string;
};

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** What a command said on stderr (else stdout), on one line, for an error message. */
function lastLine(r: RunResult): string {
  const text = r.stderr.trim() ? r.stderr : r.stdout;
  return text.split("\n").map((l) => l.trim()).filter(Boolean).join(" ").slice(0, 300);
}

/** What an exit code means, in words an admin can act on. */
export function exitMeaning(argv: readonly string[], r: RunResult, host: string): string {
  const tool = argv[0];
  if (r.code === 127) return `${tool} is not installed on ${host} (or not on the login user's PATH)`;
  if (r.code === 126) return `${tool} exists on ${host} but cannot be run by the login user (permission)`;
  const said = lastLine(r);
  return `\`${commandText(argv)}\` failed on ${host} with exit code ${r.code}${said ? `: ${said}` : ""}`;
}

function transportFailure(e: unknown, argv: readonly string[], host: string): Error {
  if (e instanceof TransportError) {
    switch (e.kind) {
      case "timeout":
        return new StepError(`${argv[0]} on ${host} did not finish in time; check the host (${e.message})`);
      case "connect":
        return new StepError(`cannot reach host ${host}: ${e.message}`);
      case "auth":
        return new StepError(`host ${host} refused the portal's login: ${e.message}`);
      case "host-key":
        return new StepError(`host ${host} presented an unexpected host key; an admin must confirm it: ${e.message}`);
      case "aborted":
        return e; // the worker is shutting down: the step is redelivered
      default:
        return new StepError(`${argv[0]} could not be started on ${host}: ${e.message}`);
    }
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Runs one plan step on a host: each command with its output streamed to the step log, each
 * file written with its mode. A command that fails because its work is already there counts
 * as done when the existing thing matches the order; otherwise the step fails with a message
 * that says what to do. Every failure is a StepError the customer and the admin can read.
 */
export async function runPlanStep(step: PlanStep, transport: Transport, io: StepIo, options: RunnerOptions = {}): Promise<void> {
  const host = transport.description;
  if (options.notice) await io.log(options.notice);
  await io.log(`${step.description} (on ${host})`);
  if (step.actions.length === 0) {
    await io.log("nothing to run on the host for this step");
    return;
  }
  for (const action of step.actions) {
    if (io.signal.aborted) throw new TransportError("aborted", "the worker is shutting down");
    if (action.kind === "write") await writeOne(action, transport, io);
    else await runOne(action, transport, io, host, options);
  }
}

async function writeOne(file: WriteAction, transport: Transport, io: StepIo) {
  // The content is not logged: it may hold a password hash or a key.
  await io.log(`write ${file.path} (mode ${modeText(file.mode)}, ${file.content.split("\n").filter(Boolean).length} lines): ${file.description}`);
  try {
    await transport.writeFile(file.path, file.content, { mode: file.mode });
  } catch (e) {
    if (e instanceof TransportError) throw transportFailure(e, ["write", file.path], transport.description);
    throw new StepError(`could not write ${file.path} on ${transport.description}: ${(e as Error).message}`);
  }
}

/** Runs argv once, its output lines going to the step log in order. */
async function exec(argv: readonly string[], transport: Transport, io: StepIo, action: RunAction, host: string, quiet = false): Promise<RunResult> {
  let logging = Promise.resolve();
  try {
    const result = await transport.run(argv, {
      stdin: action.stdin,
      timeoutMs: action.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: io.signal,
      onLine: quiet ? undefined : (stream, line) => {
        if (!line.trim()) return;
        logging = logging.then(() => io.log(`  ${stream === "stderr" ? "! " : ""}${line}`));
      },
    });
    await logging;
    return result;
  } catch (e) {
    await logging;
    throw transportFailure(e, argv, host);
  }
}

async function runOne(action: RunAction, transport: Transport, io: StepIo, host: string, options: RunnerOptions) {
  await io.log(`$ ${commandText(action.argv)}`);
  if (action.until) return poll(action, transport, io, host, options);
  const result = await exec(action.argv, transport, io, action, host);
  if (result.code === 0) {
    if (action.expect && !action.expect.stdout.test(result.stdout)) {
      throw new StepError(`${action.expect.problem} (on ${host}, \`${commandText(action.argv)}\` said: ${result.stdout.trim().split("\n")[0]?.slice(0, 200) || "nothing"})`);
    }
    return;
  }
  const allowed = action.okCodes?.[result.code];
  if (allowed) {
    await io.log(`exit code ${result.code}: ${allowed}`);
    return;
  }
  const done = action.alreadyDone;
  if (done && done.when.test(`${result.stderr}\n${result.stdout}`)) {
    if (!done.verify) {
      await io.log(done.note ?? `already done: ${lastLine(result)}`);
      return;
    }
    const check = await exec(done.verify.argv, transport, io, action, host, true);
    const problem = done.verify.problem(check.stdout, check.code);
    if (problem === null) {
      await io.log(`already done: ${lastLine(result)}; it matches this order`);
      return;
    }
    throw new StepError(`${lastLine(result)} on ${host}, but it does not match this order: ${problem}. ${done.advice}`);
  }
  throw new StepError(exitMeaning(action.argv, result, host) + (action.hint ? `. ${action.hint}` : ""));
}

async function poll(action: RunAction, transport: Transport, io: StepIo, host: string, options: RunnerOptions) {
  const until = action.until!;
  const interval = options.pollIntervalMs ?? until.intervalMs;
  let last: RunResult | null = null;
  for (let attempt = 1; attempt <= until.attempts; attempt++) {
    last = await exec(action.argv, transport, io, action, host, true);
    if (last.code === 0 && until.ready.test(last.stdout)) {
      await io.log(`${until.what}: yes (${last.stdout.trim().split("\n")[0]?.slice(0, 200) ?? ""})`);
      return;
    }
    if (attempt === 1 || attempt % 10 === 0) await io.log(`waiting for ${until.what} (attempt ${attempt} of ${until.attempts})`);
    if (attempt < until.attempts) await sleep(interval, undefined, { signal: io.signal });
  }
  const seen = last ? (last.code === 0 ? last.stdout.trim().split("\n")[0] ?? "" : lastLine(last)) : "";
  throw new StepError(`gave up waiting for ${until.what} on ${host} after ${until.attempts} tries${seen ? ` (last answer: ${seen.slice(0, 200)})` : ""}`);
}
