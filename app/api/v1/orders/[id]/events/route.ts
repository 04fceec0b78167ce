import { apiRoute } from "@/lib/api/handler";
import { whileRequested } from "@/lib/db/client";
import { orderForActor, orderView } from "@/lib/orders/queries";
import { onOrderChange } from "@/lib/pipeline/subscriptions";
import { snapshotStream } from "@/lib/api/event-stream";

export const dynamic = "force-dynamic";

/**
 * Server-sent events: the current snapshot at once, then a new snapshot whenever the order
 * changes. Each message is `event: snapshot` with the same JSON as GET /api/v1/orders/:id.
 */
export const GET = apiRoute({}, async ({ db, actor, params, req }) => {
  await orderForActor(db, actor, params.id);
  return snapshotStream({
    req,
    subscribe: (onChange) => onOrderChange(params.id, onChange),
    // Run as this request's statement whatever context the Redis message arrived in
    // (the shared subscriber connection may have been opened by another request).
    read: () => whileRequested(req.signal, () => orderView(db, params.id)),
    failure: "could not read the order",
  });
});
