import { apiRoute, json } from "@/lib/api/handler";
import { stopEvacuation } from "@/lib/fleet/evacuate";

export const dynamic = "force-dynamic";

/** Stops a running evacuation or rebalance (admins): moves not yet started stay; those under way finish. */
export const POST = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => json(await stopEvacuation(db, actor, params.id)));
