import { apiRoute, json } from "@/lib/api/handler";
import { userProfile } from "@/lib/users/queries";

export const dynamic = "force-dynamic";

/** Who the token or session belongs to (the command-line client checks its token with this). */
export const GET = apiRoute({}, async ({ db, actor }) => json(await userProfile(db, actor.id)));
