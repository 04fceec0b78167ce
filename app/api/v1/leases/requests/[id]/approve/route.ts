import { apiRoute, json } from "@/lib/api/handler";
import { decideExtension } from "@/lib/db/queries/leases";
import { extensionDecisionInput } from "@/lib/validation/lease";

export const POST = apiRoute({ body: extensionDecisionInput }, async ({ db, actor, params, body }) =>
  json(await decideExtension(db, actor, params.id, true, body.reason)),
);
