import { apiRoute, json } from "@/lib/api/handler";
import { orderForActor, orderView } from "@/lib/db/queries/orders";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ db, actor, params }) => {
  await orderForActor(db, actor, params.id);
  return json(await orderView(db, params.id));
});
