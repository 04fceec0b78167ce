import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { runCampaignStep } from "@/lib/campaigns/runner";

/**
 * One step of a patch campaign (lib/campaigns/runner.ts). A step is short (it starts backups and
 * rebuilds, and reads how they go); the next one is a delayed job it enqueues itself. A step that
 * fails is retried by the queue; one that stays lost is enqueued again by the reconciler.
 */
export function campaignProcessor(db: Db) {
  return async (job: Job) => {
    const { campaignId, tick } = queues.campaign.payload.parse(job.data);
    const { outcome, next } = await runCampaignStep(db, campaignId, tick);
    return { outcome, next: next?.toISOString() ?? null };
  };
}
