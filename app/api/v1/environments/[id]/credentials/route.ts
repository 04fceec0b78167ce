import { apiRoute, json } from "@/lib/api/handler";
import { rotateCredentials } from "@/lib/lifecycle/credentials";

export const dynamic = "force-dynamic";

/**
 * A new password for the environment's service (a database's owner), owner or admin: set in
 * the running guest, then returned in this response, once; the old one stops working. 409
 * when the environment has no such password, is not running, or the guest refused it.
 */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await rotateCredentials(db, actor, params.id), 200, { "Cache-Control": "no-store" }));
