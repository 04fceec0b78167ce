import { apiRoute, json } from "@/lib/api/handler";
import { postponeInput } from "@/lib/campaigns/input";
import { postponeInCampaign } from "@/lib/campaigns/queries";

/** The owner postpones their environment's update (once, within the campaign's limit and the lease). */
export const POST = apiRoute({ body: postponeInput }, async ({ db, actor, params, body }) => json(await postponeInCampaign(db, actor, params.id, body)));
