import { apiRoute, json } from "@/lib/api/handler";
import { testHostConnection } from "@/lib/hosts/test-connection";

export const dynamic = "force-dynamic";

/**
 * Admins: connect to the host, pin its host key on the first contact, discover its capacity.
 * 200 with ok false and the reason when the host cannot be reached or refuses.
 */
export const POST = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => json(await testHostConnection(db, actor, params.id)));
