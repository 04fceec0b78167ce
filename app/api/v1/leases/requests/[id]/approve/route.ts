import { apiRoute, json } from "@/lib/api/handler";
import { decideExtension } from "@/lib/leases/queries";
import { extensionDecisionInput } from "@/lib/leases/input";

export const POST = apiRoute({ body: extensionDecisionInput }, async ({ db, actor, params, body }) =>
  json(await decideExtension(db, actor, params.id, true, body.reason)),
);
