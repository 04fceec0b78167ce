import { getRedis, redisPrefix } from "../redis";

/** Pub/sub channel on which a order's changes are announced. */
export function orderChannel(orderId: string): string {
  return `${redisPrefix}:order:${orderId}`;
}

/**
 * Tells listeners that the order changed. The event only says *that* something changed;
 * listeners read the current state from the database (the source of truth), so a lost
 * event costs a delay, never a wrong page.
 */
export async function announce(orderId: string, what: string): Promise<void> {
  try {
    await getRedis().publish(orderChannel(orderId), JSON.stringify({ orderId, what, at: Date.now() }));
  } catch {
    // Redis unavailable: the page's polling fallback still shows the truth.
  }
}
