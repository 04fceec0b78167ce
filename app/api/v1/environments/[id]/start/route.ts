import { apiRoute, json } from "@/lib/api/handler";
import { requestAction } from "@/lib/lifecycle/actions";

/** Starts a stopped environment (owner or admin); 202 with the queued action. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestAction(db, actor, params.id, "start"), 202));
