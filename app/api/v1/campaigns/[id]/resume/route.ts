import { apiRoute, json } from "@/lib/api/handler";
import { resumeCampaign } from "@/lib/campaigns/queries";

/** A paused campaign goes on (or waits for its window again). */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await resumeCampaign(db, actor, params.id)));
