import { apiRoute, json } from "@/lib/api/handler";
import { campaignInput } from "@/lib/campaigns/input";
import { createCampaign, listCampaigns } from "@/lib/campaigns/queries";

export const dynamic = "force-dynamic";

/** The patch campaigns the caller manages (admins all; approvers their groups'), newest first; 403 for others. */
export const GET = apiRoute({}, async ({ db, actor }) => json({ campaigns: await listCampaigns(db, actor) }));

/**
 * Starts a patch campaign (admins; approvers for a group they approve for): 201 with the
 * campaign; its owners are told now, its first wave waits for the window's start.
 */
export const POST = apiRoute({ body: campaignInput }, async ({ db, actor, body }) => {
  const created = await createCampaign(db, actor, body);
  return json(created, 201, { Location: `/api/v1/campaigns/${created.id}` });
});
