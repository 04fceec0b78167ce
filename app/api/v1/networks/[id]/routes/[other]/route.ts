import { apiRoute, json } from "@/lib/api/handler";
import { removeRoute } from "@/lib/net/routes";

/** Admins: keeps this network and `other` (slug or id) apart again; 404 when they were not routed; applied to running hosts at once. */
export const DELETE = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => json(await removeRoute(db, actor, params.id, params.other)));
