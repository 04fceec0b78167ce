import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { createOrder, listOrders } from "@/lib/db/queries/orders";
import { orderInput } from "@/lib/validation/order";

export const dynamic = "force-dynamic";

const scope = z.object({ scope: z.enum(["mine", "all", "approvals"]).optional() });

/** Mine; every order for admins (or `?scope=mine`); `?scope=approvals` for the approval queue. */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const q = scope.parse(Object.fromEntries(new URL(req.url).searchParams));
  const which = q.scope ?? (actor.role === "admin" ? "all" : "mine");
  const rows = await listOrders(db, actor, which);
  return json({ orders: rows });
});

export const POST = apiRoute({ body: orderInput }, async ({ db, actor, body }) => {
  const created = await createOrder(db, actor, body);
  return json(created, 201, { Location: `/api/v1/orders/${created.id}` });
});
