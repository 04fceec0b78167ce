import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { createOrder, listOrders } from "@/lib/orders/queries";
import { orderInput } from "@/lib/orders/input";

export const dynamic = "force-dynamic";

const listQuery = z.object({
  scope: z.enum(["mine", "all", "approvals"]).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

/**
 * Mine; every order for admins (or `?scope=mine`); `?scope=approvals` for the approval queue.
 * Newest first, 50 a page (`?page=2`); `hasMore` says whether a next page exists.
 */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const q = listQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  const which = q.scope ?? (actor.role === "admin" ? "all" : "mine");
  const { orders, hasMore } = await listOrders(db, actor, which, q.page);
  return json({ orders, page: q.page, hasMore });
});

export const POST = apiRoute({ body: orderInput }, async ({ db, actor, body }) => {
  const created = await createOrder(db, actor, body);
  return json(created, 201, { Location: `/api/v1/orders/${created.id}` });
});
