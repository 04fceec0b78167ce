"use client";

import { useCallback, useEffect, useState } from "react";

export type StreamMode = "live" | "polling" | "connecting" | "closed";

const POLL_MS = 2000;
/** While polling, how long until the page tries the event stream again. */
const RETRY_LIVE_MS = 30_000;

/** Where a snapshot is read: fixed, or following the view (null: nothing to follow). */
type Address<T> = string | ((view: T) => string | null);

/**
 * Something the server streams as snapshots (an order, a campaign, an evacuation), kept current:
 * server-sent events from `eventsUrl` (`event: snapshot`), and polling `url` every 2 s when the
 * event stream fails (trying the stream again every 30 s). Once `isFinal(view)` holds nothing is
 * followed any more. `refresh()` fetches once at once (after the user acted) and makes sure
 * updates keep coming; `follow(next)` switches to another view (a run just started) and follows it.
 */
export function useLiveSnapshot<T>(initial: T, opts: { url: Address<T>; eventsUrl: Address<T>; isFinal: (view: T) => boolean }) {
  const [view, setView] = useState<T>(initial);
  const [mode, setMode] = useState<StreamMode>(opts.isFinal(initial) ? "closed" : "connecting");
  const [generation, setGeneration] = useState(0);
  const url = typeof opts.url === "function" ? opts.url(view) : opts.url;
  const eventsUrl = typeof opts.eventsUrl === "function" ? opts.eventsUrl(view) : opts.eventsUrl;
  const final = opts.isFinal(view);

  const fetchOnce = useCallback(async () => {
    if (!url) return null;
    try {
      const res = await fetch(url, { cache: "no-store", credentials: "same-origin" });
      if (res.ok) {
        const next = (await res.json()) as T;
        setView(next);
        return next;
      }
    } catch {
      // next poll tries again
    }
    return null;
  }, [url]);

  const isFinal = opts.isFinal;
  useEffect(() => {
    if (final || !eventsUrl) {
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
        if (next && isFinal(next) && poll) {
          clearInterval(poll);
          poll = null;
        }
      }, POLL_MS);
    };

    if (typeof EventSource === "undefined") {
      startPolling();
    } else {
      source = new EventSource(eventsUrl);
      source.addEventListener("open", () => {
        if (!stopped) setMode("live");
      });
      source.addEventListener("snapshot", (event) => {
        try {
          setView(JSON.parse((event as MessageEvent<string>).data) as T);
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
    // isFinal is the caller's rule, the same on every render: it does not restart the stream.
  }, [eventsUrl, final, fetchOnce, generation]);

  const refresh = useCallback(async () => {
    await fetchOnce();
    setGeneration((g) => g + 1);
  }, [fetchOnce]);

  const follow = useCallback((next: T) => {
    setView(next);
    setGeneration((g) => g + 1);
  }, []);

  return { view, mode, refresh, follow };
}
