import { apiRoute, json } from "@/lib/api/handler";
import { cancelOrder } from "@/lib/db/queries/orders";

export const POST = apiRoute({}, async ({ db, actor, params }) => json(await cancelOrder(db, actor, params.id)));
