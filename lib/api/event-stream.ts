/**
 * A server-sent events answer: never cached or transformed, and not buffered by a proxy in front
 * (nginx reads X-Accel-Buffering), so each event reaches the browser when it is written.
 */
export function eventStreamResponse(stream: ReadableStream<Uint8Array>): Response {
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}

const HEARTBEAT_MS = 15_000;
/** Coalesces bursts of announcements (a step and its log lines) into one snapshot. */
const COALESCE_MS = 100;

/**
 * Server-sent snapshots of one thing (an order, a campaign): the current snapshot at once, then
 * a new one whenever `subscribe`'s channel announces a change (bursts coalesced), as
 * `event: snapshot` with `read()`'s JSON; a heartbeat comment every 15 s. Cleans up when the
 * client goes away (`req.signal`), also while it still waits for its subscription.
 */
export function snapshotStream(opts: {
  req: Request;
  subscribe: (onChange: () => void) => Promise<() => void>;
  read: () => Promise<unknown>;
  /** The `event: error` message when a snapshot cannot be read. */
  failure: string;
}): Response {
  const { req } = opts;
  const encoder = new TextEncoder();
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
            write(`event: snapshot\ndata: ${JSON.stringify(await opts.read())}\n\n`);
          } catch {
            write(`event: error\ndata: ${JSON.stringify({ error: opts.failure })}\n\n`);
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
      const unsubscribe = await opts.subscribe(schedule);
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
