import { apiRoute, json } from "@/lib/api/handler";
import { rejectOrder } from "@/lib/db/queries/orders";
import { rejectInput } from "@/lib/validation/order";

export const POST = apiRoute({ body: rejectInput }, async ({ db, actor, params, body }) =>
  json(await rejectOrder(db, actor, params.id, body.reason)),
);
