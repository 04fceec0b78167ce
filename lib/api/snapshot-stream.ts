import { whileRequested } from "../db/client";
import { eventStreamResponse } from "./event-stream";

const HEARTBEAT_MS = 15_000;
/** Coalesces bursts of announcements (a step and its log lines) into one snapshot. */
const COALESCE_MS = 100;

/**
 * Server-sent events of snapshots: `retry: 2000`, the current snapshot at once, then a new one
 * whenever `subscribe` calls back (coalesced), keep-alive comments every 15 s; cleaned up when
 * the client goes. Each message is `event: snapshot` with `read()`'s JSON, or `event: error`
 * with `{ error: failure }` when reading failed.
 */
export function snapshotStream(
  req: Request,
  subscribe: (onChange: () => void) => Promise<() => void>,
  read: () => Promise<unknown>,
  failure: string,
): Response {
  const encoder = new TextEncoder();
  // The client can go away while start() still awaits its subscription: that is remembered,
  // and start() then cleans up at once instead of leaving a heartbeat writing to a closed stream.
  let gone = false;
  let cleanup = () => {
    gone = true;
  };
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let closed = false;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let sending = Promise.resolve();
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup(); // the stream was closed under us
        }
      };
      const send = () => {
        sending = sending.then(async () => {
          if (closed) return;
          try {
            // Run as this request's statement whatever context the Redis message arrived in
            // (the shared subscriber connection may have been opened by another request).
            const snapshot = await whileRequested(req.signal, read);
            write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
          } catch {
            write(`event: error\ndata: ${JSON.stringify({ error: failure })}\n\n`);
          }
        });
      };
      const schedule = () => {
        if (timer) return;
        timer = setTimeout(() => {
          timer = null;
          send();
        }, COALESCE_MS);
      };
      const unsubscribe = await subscribe(schedule);
      const heartbeat = setInterval(() => write(": keep-alive\n\n"), HEARTBEAT_MS);
      cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        if (timer) clearTimeout(timer);
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      if (gone || req.signal.aborted) return cleanup();
      req.signal.addEventListener("abort", () => cleanup(), { once: true });
      write("retry: 2000\n\n");
      send();
    },
    cancel() {
      cleanup();
    },
  });
  return eventStreamResponse(stream);
}
