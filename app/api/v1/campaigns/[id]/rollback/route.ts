import { apiRoute, json } from "@/lib/api/handler";
import { rollbackCampaign } from "@/lib/campaigns/rollback";

/** The failed environments go back to their previous version and the backup taken before their update; 202. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await rollbackCampaign(db, actor, params.id), 202));
