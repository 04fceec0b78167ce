import { ApiError, eventsOf, readAnswer, type PortalApi } from "./client";
import { emit, environmentOf, UsageError, type Command, type Ctx } from "./shared";

/**
 * `portal console <order id>`: the guest's console (the order page's Console card) in the
 * user's own terminal, or driven by a script. Output comes from the console's event stream
 * (GET /api/v1/environments/{id}/console), keystrokes go out by POST, as the browser does.
 */

type Status = { state: "connecting" | "connected" | "closed" | "unavailable"; message: string };
type Handlers = { output: (data: string) => void; status: (s: Status) => void };

/** Ctrl-]: leaves the console, as telnet's escape character does. */
const ESCAPE = "\x1d";

/**
 * Reads the console's event stream until `signal` aborts, connecting again (after 2 s, as
 * EventSource does) when it drops. A refusal (403, 404, 409) ends it with that error.
 */
async function watch(api: PortalApi, environmentId: string, on: Handlers, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch(api.url("/api/v1/environments/{id}/console", { id: environmentId }), { headers: api.headers({ accept: "text/event-stream" }), signal });
      if (!res.ok || !res.body) await readAnswer(res);
      for await (const { event, data } of eventsOf(res)) {
        if (!data) continue;
        if (event === "output") on.output((JSON.parse(data) as { data: string }).data);
        else if (event === "status") on.status(JSON.parse(data) as Status);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError) throw err;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** `--send` text as typed: `\n` and `\r` are Enter, `\t` a tab, `\xHH` any byte (`\x03` is Ctrl-C), `\\` a backslash. */
export function keystrokes(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[nrt\\])/g, (_, e: string) =>
    e === "n" || e === "r" ? "\r" : e === "t" ? "\t" : e === "\\" ? "\\" : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

function typer(api: PortalApi, environmentId: string) {
  return (data: string) => api.call("post", "/api/v1/environments/{id}/console", { params: { id: environmentId }, body: { data } });
}

/** Sends `--send`, collects what the console prints after it, and stops at `--until` (or once it is quiet for a second). */
async function scripted(ctx: Ctx, environmentId: string): Promise<number> {
  const timeoutS = ctx.values.timeout === undefined ? 10 : Number(ctx.values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError("--timeout is a number of seconds");
  let until: RegExp | null = null;
  try {
    until = ctx.values.until === undefined ? null : new RegExp(String(ctx.values.until));
  } catch (err) {
    throw new UsageError(`--until is not a pattern: ${(err as Error).message}`);
  }
  const text = keystrokes(String(ctx.values.send));
  const stop = new AbortController();
  let output = "";
  let sent = false;
  let quietTimer: ReturnType<typeof setTimeout> | undefined;
  const result = new Promise<{ matched: boolean; why?: string }>((resolve, reject) => {
    const timer = setTimeout(() => resolve({ matched: false, why: until ? `the console did not show /${until.source}/ within ${timeoutS} s` : undefined }), timeoutS * 1000);
    const finish = (r: { matched: boolean; why?: string }) => {
      clearTimeout(timer);
      clearTimeout(quietTimer);
      resolve(r);
    };
    // Without --until the answer is complete once the console has been quiet for a second.
    const quiet = () => {
      clearTimeout(quietTimer);
      if (!until) quietTimer = setTimeout(() => finish({ matched: true }), 1000);
    };
    watch(ctx.api(), environmentId, {
      // What arrives before the keystrokes go out is the recent output, shown to late viewers: not the answer.
      output: (data) => {
        if (!sent) return;
        output += data;
        if (until?.test(output)) finish({ matched: true });
        else quiet();
      },
      status: (s) => {
        if (s.state === "connected" && !sent) {
          sent = true;
          typer(ctx.api(), environmentId)(text).then(quiet, reject);
        } else if (s.state === "closed" || s.state === "unavailable") {
          finish({ matched: false, why: s.message });
        }
      },
    }, stop.signal).catch(reject);
  });
  try {
    const r = await result;
    emit(ctx, { output, matched: r.matched }, () => void process.stdout.write(output));
    if (!r.matched && r.why) throw new Error(r.why);
    return 0;
  } finally {
    stop.abort();
  }
}

/** The console in this terminal: raw keystrokes to the guest, its output here, Ctrl-] to leave. */
async function interactive(ctx: Ctx, environmentId: string, name: string): Promise<number> {
  const input = process.stdin;
  if (!input.isTTY) throw new UsageError("standard input is not a terminal: for scripts, use --send <text> [--until <pattern>]");
  const type = typer(ctx.api(), environmentId);
  const stop = new AbortController();
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | null = null;
  let sending: Promise<unknown> = Promise.resolve();
  let failure: Error | null = null;
  let leave: (code: number) => void = () => {};
  const left = new Promise<number>((resolve) => (leave = resolve));
  let announced = false;
  const flush = () => {
    timer = null;
    // Keystrokes wait for the console to be connected: before that nobody would pass them on.
    if (!announced) return;
    const data = pending;
    pending = "";
    if (data) sending = sending.then(() => type(data)).catch((err: Error) => {
      failure = err;
      leave(1);
    });
  };
  const onData = (chunk: string) => {
    const at = chunk.indexOf(ESCAPE);
    pending += at >= 0 ? chunk.slice(0, at) : chunk;
    if (at >= 0) {
      flush();
      return leave(0);
    }
    // Keystrokes go out in small batches, as the Console card sends them.
    if (pending.length >= 4000) flush();
    else timer ??= setTimeout(flush, 25);
  };
  const watching = watch(ctx.api(), environmentId, {
    output: (data) => void process.stdout.write(data),
    status: (s) => {
      if (s.state === "connected" && !announced) {
        announced = true;
        process.stderr.write(`Connected to the console of ${name}. Escape character is '^]'.\r\n`);
        flush();
      } else if (s.state === "closed" || s.state === "unavailable") {
        failure = new Error(s.message);
        leave(1);
      } else if (s.state === "connecting" && announced) {
        process.stderr.write(`\r\n[${s.message}]\r\n`);
      }
    },
  }, stop.signal).catch((err: Error) => {
    failure = err;
    leave(1);
  });
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.on("data", onData);
  input.resume();
  try {
    const code = await left;
    await sending;
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    input.off("data", onData);
    input.setRawMode(false);
    input.pause();
    stop.abort();
    await watching;
    process.stderr.write("\r\nConnection closed.\n");
    if (failure) throw failure;
  }
}

export const consoleCommand: Command = {
  usage: "portal console <order id> [--send <text> [--until <pattern>] [--timeout <s>]]",
  summary:
    "The guest's console (a root shell, shared with everyone who has it open) in this terminal; Ctrl-] leaves, as in telnet. " +
    "For scripts, --send types <text> (\\n is Enter, \\xHH any byte, e.g. \\x03 Ctrl-C) and prints what the console answers: until it matches " +
    "the regular expression --until (exit 1 when it does not within --timeout seconds, default 10), or, without --until, until it is quiet for a second. " +
    "--json gives { output, matched }.",
  args: ["order id"],
  options: { send: { type: "string" }, until: { type: "string" }, timeout: { type: "string" } },
  async run(ctx) {
    if ((ctx.values.until !== undefined || ctx.values.timeout !== undefined) && ctx.values.send === undefined) {
      throw new UsageError("--until and --timeout go with --send <text>");
    }
    const { order, environmentId } = await environmentOf(ctx);
    return ctx.values.send !== undefined ? scripted(ctx, environmentId) : interactive(ctx, environmentId, order.environment?.hostname ?? order.name);
  },
};
