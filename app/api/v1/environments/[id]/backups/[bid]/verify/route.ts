import { apiRoute, json } from "@/lib/api/handler";
import { requestVerification } from "@/lib/backups/backups";

/** Proves a backup now: boots it in a throwaway guest and reads its marker back (owner or admin); 202 with the queued action. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestVerification(db, actor, params.id, params.bid), 202));
