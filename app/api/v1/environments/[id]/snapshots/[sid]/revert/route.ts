import { apiRoute, json } from "@/lib/api/handler";
import { requestRevert } from "@/lib/lifecycle/snapshots";

/** Reverts the environment to the snapshot (name, addresses and MACs stay); owner or admin; 202. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestRevert(db, actor, params.id, params.sid), 202));
