import { apiRoute, json } from "@/lib/api/handler";
import { rejectOrder } from "@/lib/orders/queries";
import { rejectInput } from "@/lib/orders/input";

export const POST = apiRoute({ body: rejectInput }, async ({ db, actor, params, body }) =>
  json(await rejectOrder(db, actor, params.id, body.reason)),
);
