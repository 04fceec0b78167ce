import { apiRoute, json } from "@/lib/api/handler";
import { requestAction } from "@/lib/lifecycle/actions";

/** Stops a running environment (ACPI shutdown, forced after a timeout); owner or admin; 202. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestAction(db, actor, params.id, "stop"), 202));
