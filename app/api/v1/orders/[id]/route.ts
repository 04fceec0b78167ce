import { apiRoute, json } from "@/lib/api/handler";
import { orderForActor, orderView } from "@/lib/orders/queries";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ db, actor, params }) => {
  await orderForActor(db, actor, params.id);
  return json(await orderView(db, params.id));
});
