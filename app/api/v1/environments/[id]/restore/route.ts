import { apiRoute, json } from "@/lib/api/handler";
import { requestRestore } from "@/lib/backups/backups";
import { restoreInput } from "@/lib/backups/input";

/** Brings the environment back from one of its backups, in place (owner or admin); 202 with the queued action. */
export const POST = apiRoute({ body: restoreInput }, async ({ db, actor, params, body }) => json(await requestRestore(db, actor, params.id, body), 202));
