import { apiRoute } from "@/lib/api/handler";
import { whileRequested } from "@/lib/db/client";
import { orderForActor, orderView } from "@/lib/orders/queries";
import { onOrderChange } from "@/lib/pipeline/subscriptions";
import { eventStreamResponse } from "@/lib/api/event-stream";

export const dynamic = "force-dynamic";

const HEARTBEAT_MS = 15_000;
/** Coalesces bursts of events (a step and its log lines) into one snapshot. */
const COALESCE_MS = 100;

/**
 * Server-sent events: the current snapshot at once, then a new snapshot whenever the order
 * changes. Each message is `event: snapshot` with the same JSON as GET /api/v1/orders/:id.
 */
export const GET = apiRoute({}, async ({ db, actor, params, req }) => {
  await orderForActor(db, actor, params.id);
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
            const view = await whileRequested(req.signal, () => orderView(db, params.id));
            write(`event: snapshot\ndata: ${JSON.stringify(view)}\n\n`);
          } catch {
            write(`event: error\ndata: {"error":"could not read the order"}\n\n`);
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
      const unsubscribe = await onOrderChange(params.id, schedule);
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
});
