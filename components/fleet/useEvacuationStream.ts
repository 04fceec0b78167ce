"use client";

import { useCallback, useEffect, useState } from "react";
import type { EvacuationView } from "@/lib/fleet/queries";
import type { StreamMode } from "../orders/useOrderStream";

const POLL_MS = 2000;
/** While polling, how long until the page tries the event stream again. */
const RETRY_LIVE_MS = 30_000;

/**
 * An evacuation or rebalance run as the server sees it, kept current while it runs: server-sent
 * events from /api/v1/evacuations/:id/events, polling GET /api/v1/evacuations/:id every 2 s
 * when the stream fails (the order page's pattern). `follow(view)` switches to a batch just
 * started; nothing is followed while `view` is null.
 */
export function useEvacuationStream(initial: EvacuationView | null) {
  const [view, setView] = useState<EvacuationView | null>(initial);
  const [mode, setMode] = useState<StreamMode>(initial?.status === "running" ? "connecting" : "closed");
  const [generation, setGeneration] = useState(0);
  const id = view?.id ?? null;
  const running = view?.status === "running";

  const fetchOnce = useCallback(async () => {
    if (!id) return null;
    try {
      const res = await fetch(`/api/v1/evacuations/${id}`, { cache: "no-store", credentials: "same-origin" });
      if (res.ok) {
        const next = (await res.json()) as EvacuationView;
        setView(next);
        return next;
      }
    } catch {
      // next poll tries again
    }
    return null;
  }, [id]);

  useEffect(() => {
    if (!id || !running) {
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
        if (next && next.status !== "running" && poll) {
          clearInterval(poll);
          poll = null;
        }
      }, POLL_MS);
    };
    if (typeof EventSource === "undefined") startPolling();
    else {
      source = new EventSource(`/api/v1/evacuations/${id}/events`);
      source.addEventListener("open", () => {
        if (!stopped) setMode("live");
      });
      source.addEventListener("snapshot", (event) => {
        try {
          setView(JSON.parse((event as MessageEvent<string>).data) as EvacuationView);
          setMode("live");
        } catch {
          // a malformed message: the next snapshot replaces it
        }
      });
      source.addEventListener("error", (event) => {
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
  }, [id, running, fetchOnce, generation]);

  const follow = useCallback((next: EvacuationView) => {
    setView(next);
    setGeneration((g) => g + 1);
  }, []);

  return { view, mode, follow };
}
