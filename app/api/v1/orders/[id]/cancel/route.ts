import { apiRoute, json } from "@/lib/api/handler";
import { cancelOrder } from "@/lib/orders/queries";

export const POST = apiRoute({}, async ({ db, actor, params }) => json(await cancelOrder(db, actor, params.id)));
