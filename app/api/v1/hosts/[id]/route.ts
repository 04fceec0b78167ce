import { apiRoute, json } from "@/lib/api/handler";
import { getHostView, removeHost, updateHost } from "@/lib/hosts/queries";
import { hostUpdateInput } from "@/lib/hosts/input";

export const dynamic = "force-dynamic";

/** One host (admins), without its private key. */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json(await getHostView(db, params.id)));

/** Admins: drain or activate a host, change its SSH settings or key, its command limit; on sim hosts, inject failures. */
export const PATCH = apiRoute({ roles: ["admin"], body: hostUpdateInput }, async ({ db, actor, params, body }) =>
  json(await updateHost(db, actor, params.id, body)),
);

/** Admins remove a host; 409 while environments live on it. */
export const DELETE = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => json(await removeHost(db, actor, params.id)));
