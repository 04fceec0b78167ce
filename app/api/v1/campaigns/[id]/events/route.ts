import { apiRoute } from "@/lib/api/handler";
import { campaignForManager } from "@/lib/campaigns/access";
import { campaignViewById } from "@/lib/campaigns/queries";
import { onCampaignChange } from "@/lib/campaigns/events";
import { snapshotStream } from "@/lib/api/snapshot-stream";

export const dynamic = "force-dynamic";

/**
 * Server-sent events: the campaign now, then a new snapshot whenever it changes (a wave starts,
 * an environment backs up, reinstalls, is checked, fails or is rolled back). Each message is
 * `event: snapshot` with the same JSON as GET /api/v1/campaigns/:id.
 */
export const GET = apiRoute({}, async ({ db, actor, params, req }) => {
  await campaignForManager(db, actor, params.id);
  return snapshotStream(req, (onChange) => onCampaignChange(params.id, onChange), () => campaignViewById(db, params.id), "could not read the campaign");
});
