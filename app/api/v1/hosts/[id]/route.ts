import { apiRoute, json } from "@/lib/api/handler";
import { updateHost } from "@/lib/db/queries/admin";
import { hostUpdateInput } from "@/lib/validation/host";

/** Admins: drain or reactivate a host; on sim hosts, inject failures into named steps. */
export const PATCH = apiRoute({ roles: ["admin"], body: hostUpdateInput }, async ({ db, actor, params, body }) =>
  json(await updateHost(db, actor, params.id, body)),
);
