"use client";

import type { OrderView } from "@/lib/orders/queries";
import { useLiveSnapshot, type StreamMode } from "../useLiveSnapshot";

export type { StreamMode };

const isFinal = (view: OrderView) => view.final;

/**
 * The order as the server sees it, kept current: server-sent events from
 * /api/v1/orders/:id/events, and polling GET /api/v1/orders/:id every 2 s when the event
 * stream fails (trying the stream again every 30 s). `refresh()` fetches once at once (after
 * the user acted on the order).
 */
export function useOrderStream(initial: OrderView) {
  return useLiveSnapshot(initial, { url: `/api/v1/orders/${initial.id}`, eventsUrl: `/api/v1/orders/${initial.id}/events`, isFinal });
}
