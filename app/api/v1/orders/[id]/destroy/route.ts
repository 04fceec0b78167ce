import { apiRoute, json } from "@/lib/api/handler";
import { destroyEnvironment } from "@/lib/orders/queries";

export const POST = apiRoute({}, async ({ db, actor, params }) => json(await destroyEnvironment(db, actor, params.id)));
