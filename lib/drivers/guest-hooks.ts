/**
 * A recipe's hook (GUEST_HOOKS) run in a running guest through its console shell (QEMU's second
 * serial port, Xen's `xl console`), where the host has no other way in. The command is typed;
 * its argument and input line are checked against GUEST_HOOK_INPUT first and typed inside
 * single quotes, so the guest's shell reads them as they are. The two lines that frame the
 * hook's output are worked out by the shell (`$((40+1))`), so the echo of the typed command
 * never matches them. What is typed is never logged: an input may be a password's verifier.
 */
import { typeOnConsole, type OpenConsole } from "./console-marker";
import { GUEST_HOOK_INPUT, GUEST_HOOKS, StepError, type GuestHook, type GuestHookResult, type StepIo } from "./types";

/** The command line typed for `hook` (exported for the emulators' tests). */
export function hookCommand(hook: GuestHook, opts: { arg?: string; input?: string }): string {
  for (const v of [opts.arg, opts.input]) {
    if (v !== undefined && !GUEST_HOOK_INPUT.test(v)) throw new StepError("a guest hook's argument or input has characters that are not allowed");
  }
  const run = `${GUEST_HOOKS[hook]}${opts.arg ? ` '${opts.arg}'` : ""}`;
  const fed = opts.input !== undefined ? `echo '${opts.input}' | ${run}` : `${run} < /dev/null`;
  return `echo hook-$((40+1))-start; ${fed} 2>&1; echo hook-$((40+2))-$?`;
}

/** The hook's exit code and output from what the console printed; null when the end line is not there. */
export function parseHookOutput(printed: string): GuestHookResult | null {
  const text = printed.replace(/\r/g, "");
  const end = /hook-42-(\d+)\n/.exec(text);
  if (!end) return null;
  const start = text.lastIndexOf("hook-41-start\n", end.index);
  const output = start >= 0 ? text.slice(start + "hook-41-start\n".length, end.index) : "";
  return { code: Number(end[1]), output: output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trim() };
}

/**
 * Runs the hook on the console and resolves with how it ended; a StepError when the console
 * cannot be opened (a viewer holds it) or does not answer within `timeoutMs`.
 */
export async function runHookOnConsole(open: OpenConsole, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo, timeoutMs = 60_000): Promise<GuestHookResult> {
  const printed = await typeOnConsole(open, hookCommand(hook, opts), /hook-42-\d+\r?\n/, timeoutMs);
  const result = printed ? parseHookOutput(printed) : null;
  if (!result) throw new StepError(`the guest's console did not answer (it may be open in a Console tab: close it and try again)`);
  await io.log(`${hook}${opts.arg ? ` ${opts.arg}` : ""}: ${result.code === 127 ? "the guest has no such hook" : `exit ${result.code}`}${result.output ? ` (${result.output.split("\n").slice(-2).join(" | ").slice(0, 300)})` : ""}`);
  return result;
}
