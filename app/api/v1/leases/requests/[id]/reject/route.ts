import { apiRoute, json } from "@/lib/api/handler";
import { decideExtension } from "@/lib/leases/queries";
import { extensionRejectInput } from "@/lib/leases/input";

export const POST = apiRoute({ body: extensionRejectInput }, async ({ db, actor, params, body }) =>
  json(await decideExtension(db, actor, params.id, false, body.reason)),
);
