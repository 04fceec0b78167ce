import { apiRoute, json } from "@/lib/api/handler";
import { approveOrder } from "@/lib/orders/queries";
import { decisionInput } from "@/lib/orders/input";

export const POST = apiRoute({ body: decisionInput }, async ({ db, actor, params, body }) =>
  json(await approveOrder(db, actor, params.id, body.reason, { override: body.override })),
);
