import { getRedis, redisPrefix } from "../redis";

/** Pub/sub channel on which a batch of moves (evacuation or rebalance) announces its changes. */
export function evacuationChannel(evacuationId: string): string {
  return `${redisPrefix}:evacuation:${evacuationId}`;
}

/**
 * Tells the pages following a batch that it changed (a move started, progressed or ended).
 * Listeners read the rows again: a lost message costs a delay, never a wrong page.
 */
export async function announceEvacuation(evacuationId: string): Promise<void> {
  try {
    await getRedis().publish(evacuationChannel(evacuationId), JSON.stringify({ evacuationId, at: Date.now() }));
  } catch {
    // Redis unavailable: the page's polling fallback still shows the truth.
  }
}
