import { getRedis, redisPrefix } from "../redis";
import { onChannel } from "../pipeline/subscriptions";

/** Pub/sub channel on which a campaign's changes are announced (its page follows them live). */
export function campaignChannel(campaignId: string): string {
  return `${redisPrefix}:campaign:${campaignId}`;
}

/**
 * Tells listeners that the campaign changed. Like an order's announcement it only says that
 * something changed: listeners read the campaign from the database, so a lost one costs a delay.
 */
export async function announceCampaign(campaignId: string, what: string): Promise<void> {
  try {
    await getRedis().publish(campaignChannel(campaignId), JSON.stringify({ campaignId, what, at: Date.now() }));
  } catch {
    // Redis unavailable: the page's polling fallback still shows the truth.
  }
}

/** Calls `fn` whenever the campaign is announced as changed; returns the unsubscribe function. */
export function onCampaignChange(campaignId: string, fn: () => void): Promise<() => void> {
  return onChannel(campaignChannel(campaignId), () => fn());
}
