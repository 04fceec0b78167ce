"use client";

import { useCallback, useEffect, useState } from "react";
import type { OrderView } from "@/lib/orders/queries";

export type StreamMode = "live" | "polling" | "connecting" | "closed";

const POLL_MS = 2000;
/** While polling, how long until the page tries the event stream again. */
const RETRY_LIVE_MS = 30_000;

/**
 * The order as the server sees it, kept current: server-sent events from
 * /api/v1/orders/:id/events, and polling GET /api/v1/orders/:id every 2 s when the event
 * stream fails (trying the stream again every 30 s). `refresh()` fetches once at once (after
 * the user acted on the order).
 */
export function useOrderStream(initial: OrderView) {
  const [view, setView] = useState<OrderView>(initial);
  const [mode, setMode] = useState<StreamMode>("connecting");
  const [generation, setGeneration] = useState(0);
  const id = initial.id;
  const final = view.final;

  const fetchOnce = useCallback(async () => {
    try {
      const res = await fetch(`/api/v1/orders/${id}`, { cache: "no-store", credentials: "same-origin" });
      if (res.ok) {
        const next = (await res.json()) as OrderView;
        setView(next);
        return next;
      }
    } catch {
      // next poll tries again
    }
    return null;
  }, [id]);

  useEffect(() => {
    if (final) {
      setMode("closed");
      return;
    }
    let stopped = false;
    let poll: ReturnType<typeof setInterval> | null = null;
    let source: EventSource | null = null;
    let retryLive: ReturnType<typeof setTimeout> | null = null;

    const startPolling = () => {
      if (poll || stopped) return;
      setMode("polling");
      retryLive = setTimeout(() => setGeneration((g) => g + 1), RETRY_LIVE_MS);
      poll = setInterval(async () => {
        const next = await fetchOnce();
        if (next?.final && poll) {
          clearInterval(poll);
          poll = null;
        }
      }, POLL_MS);
    };

    if (typeof EventSource === "undefined") {
      startPolling();
    } else {
      source = new EventSource(`/api/v1/orders/${id}/events`);
      source.addEventListener("open", () => {
        if (!stopped) setMode("live");
      });
      source.addEventListener("snapshot", (event) => {
        try {
          const next = JSON.parse((event as MessageEvent<string>).data) as OrderView;
          setView(next);
          setMode("live");
        } catch {
          // a malformed message: the next snapshot replaces it
        }
      });
      source.addEventListener("error", (event) => {
        // The server's own `event: error` message carries data; the stream itself is still fine.
        if (event instanceof MessageEvent && event.data) return;
        source?.close();
        source = null;
        startPolling();
      });
    }
    return () => {
      stopped = true;
      source?.close();
      if (poll) clearInterval(poll);
      if (retryLive) clearTimeout(retryLive);
    };
  }, [id, final, fetchOnce, generation]);

  /** After an action: show the new state now and make sure updates keep coming. */
  const refresh = useCallback(async () => {
    await fetchOnce();
    setGeneration((g) => g + 1);
  }, [fetchOnce]);

  return { view, mode, refresh };
}
