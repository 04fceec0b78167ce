import { apiRoute, json } from "@/lib/api/handler";
import { sourceOf } from "@/lib/audit/write";
import type { ConsoleMessage } from "@/lib/console/channels";
import { consoleInput } from "@/lib/console/input";
import { typeIntoConsole, watchConsole } from "@/lib/console/viewer";
import { eventStreamResponse } from "@/lib/api/event-stream";

export const dynamic = "force-dynamic";

const HEARTBEAT_MS = 15_000;

function event(m: ConsoleMessage): string {
  return m.type === "output"
    ? `event: output\ndata: ${JSON.stringify({ data: m.data })}\n\n`
    : `event: status\ndata: ${JSON.stringify({ state: m.state, message: m.message })}\n\n`;
}

/**
 * The guest's console as server-sent events: `event: output` with `{ "data": "..." }` (what
 * the terminal prints: the recent output first, then live) and `event: status` with
 * `{ "state", "message" }`. Everyone watching sees the same session. Owner or admin only
 * (checked, and the opening audited, before the stream starts); the close is audited when
 * the stream ends.
 */
export const GET = apiRoute({}, async ({ db, actor, params, req }) => {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  // What arrives before the stream is being read (the recent output) waits here.
  const waiting: string[] = ["retry: 2000\n\n"];
  let ended = false;
  const write = (text: string) => {
    if (ended) return;
    if (!controller) return void waiting.push(text);
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      void end(); // the client closed the stream under us
    }
  };
  const stopWatching = await watchConsole(db, actor, params.id, sourceOf(req.headers), (m) => write(event(m)));
  const heartbeat = setInterval(() => write(": keep-alive\n\n"), HEARTBEAT_MS);
  const end = async () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    try {
      controller?.close();
    } catch {
      // already closed by the client
    }
    await stopWatching();
  };
  req.signal.addEventListener("abort", () => void end(), { once: true });
  if (req.signal.aborted) void end();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const text of waiting.splice(0)) c.enqueue(encoder.encode(text));
    },
    cancel() {
      void end();
    },
  });
  return eventStreamResponse(stream);
});

/** Types `data` into the console, as keystrokes (Enter is "\r"). 202: it was passed on to the console. */
export const POST = apiRoute({ body: consoleInput }, async ({ db, actor, params, body }) => {
  await typeIntoConsole(db, actor, params.id, body.data);
  return json({ accepted: body.data.length }, 202);
});
