import { apiRoute, json } from "@/lib/api/handler";
import { retryOrder } from "@/lib/orders/queries";

export const POST = apiRoute({}, async ({ db, actor, params }) => json(await retryOrder(db, actor, params.id)));
