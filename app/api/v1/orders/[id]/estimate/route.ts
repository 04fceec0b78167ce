import { apiRoute, json } from "@/lib/api/handler";
import { orderEstimate } from "@/lib/delivery/queries";
import { orderForActor } from "@/lib/orders/queries";
import { notFound } from "@/lib/errors";

export const dynamic = "force-dynamic";

/** Time left and expected ready time from the learned step estimates; for a delivered order, where its time went. */
export const GET = apiRoute({}, async ({ db, actor, params }) => {
  await orderForActor(db, actor, params.id);
  const estimate = await orderEstimate(db, params.id);
  if (!estimate) throw notFound("Order");
  return json(estimate, 200, { "Cache-Control": "no-store" });
});
