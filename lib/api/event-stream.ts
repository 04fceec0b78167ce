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
