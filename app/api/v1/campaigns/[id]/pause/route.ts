import { apiRoute, json } from "@/lib/api/handler";
import { pauseCampaign } from "@/lib/campaigns/queries";

/** No new wave starts; what runs finishes. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await pauseCampaign(db, actor, params.id)));
