import { apiRoute, json } from "@/lib/api/handler";
import { getCampaign } from "@/lib/campaigns/queries";

export const dynamic = "force-dynamic";

/** The campaign: its waves, each environment's outcome and timings. */
export const GET = apiRoute({}, async ({ db, actor, params }) => json(await getCampaign(db, actor, params.id)));
