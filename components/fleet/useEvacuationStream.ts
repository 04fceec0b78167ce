"use client";

import type { EvacuationView } from "@/lib/fleet/queries";
import { useLiveSnapshot } from "../useLiveSnapshot";

const isFinal = (view: EvacuationView | null) => view?.status !== "running";
const url = (view: EvacuationView | null) => (view ? `/api/v1/evacuations/${view.id}` : null);
const eventsUrl = (view: EvacuationView | null) => (view ? `/api/v1/evacuations/${view.id}/events` : null);

/**
 * An evacuation or rebalance run as the server sees it, kept current while it runs: server-sent
 * events from /api/v1/evacuations/:id/events, polling GET /api/v1/evacuations/:id every 2 s
 * when the stream fails (the order page's pattern). `follow(view)` switches to a batch just
 * started; nothing is followed while `view` is null.
 */
export function useEvacuationStream(initial: EvacuationView | null) {
  const { view, mode, follow } = useLiveSnapshot(initial, { url, eventsUrl, isFinal });
  return { view, mode, follow };
}
