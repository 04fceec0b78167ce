import { apiRoute, json } from "@/lib/api/handler";
import { approveOrder } from "@/lib/db/queries/orders";
import { decisionInput } from "@/lib/validation/order";

export const POST = apiRoute({ body: decisionInput }, async ({ db, actor, params, body }) =>
  json(await approveOrder(db, actor, params.id, body.reason, { override: body.override })),
);
