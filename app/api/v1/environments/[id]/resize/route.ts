import { apiRoute, json } from "@/lib/api/handler";
import { resizeInput } from "@/lib/lifecycle/input";
import { requestResize } from "@/lib/lifecycle/resize";

/** Changes the environment to another catalog size (stop, change, start); owner or admin; 202. */
export const POST = apiRoute({ body: resizeInput }, async ({ db, actor, params, body }) => json(await requestResize(db, actor, params.id, body.flavor), 202));
