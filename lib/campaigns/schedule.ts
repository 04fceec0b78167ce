import { enqueueCampaignTick, enqueueOrLeave } from "../jobs/queues";

/**
 * Puts the campaign's step `tick` on the queue, due at `at`. The campaign's row already says
 * when it is due (nextTickAt): if Redis is unreachable now, the reconciler enqueues it later.
 */
export async function scheduleTick(campaignId: string, tick: number, at: Date): Promise<boolean> {
  return enqueueOrLeave(`campaign ${campaignId}`, () => enqueueCampaignTick({ campaignId, tick }, at));
}
