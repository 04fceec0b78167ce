import { apiRoute } from "@/lib/api/handler";
import { orderForActor, orderView } from "@/lib/orders/queries";
import { onOrderChange } from "@/lib/pipeline/subscriptions";
import { snapshotStream } from "@/lib/api/snapshot-stream";

export const dynamic = "force-dynamic";

/**
 * Server-sent events: the current snapshot at once, then a new snapshot whenever the order
 * changes. Each message is `event: snapshot` with the same JSON as GET /api/v1/orders/:id.
 */
export const GET = apiRoute({}, async ({ db, actor, params, req }) => {
  await orderForActor(db, actor, params.id);
  return snapshotStream(req, (onChange) => onOrderChange(params.id, onChange), () => orderView(db, params.id), "could not read the order");
});
