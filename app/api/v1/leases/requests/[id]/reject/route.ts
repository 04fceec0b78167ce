import { apiRoute, json } from "@/lib/api/handler";
import { decideExtension } from "@/lib/db/queries/leases";
import { extensionRejectInput } from "@/lib/validation/lease";

export const POST = apiRoute({ body: extensionRejectInput }, async ({ db, actor, params, body }) =>
  json(await decideExtension(db, actor, params.id, false, body.reason)),
);
