import { apiRoute, json } from "@/lib/api/handler";
import { retireImage } from "@/lib/catalog/queries";

export const dynamic = "force-dynamic";

/** Admins: retire an image for good; 409 naming the orders and courses that still use it. */
export const POST = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => json(await retireImage(db, actor, params.id)));
