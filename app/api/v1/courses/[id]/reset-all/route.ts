import { apiRoute, json } from "@/lib/api/handler";
import { resetAllMachines } from "@/lib/courses/machines";

export const POST = apiRoute({}, async ({ db, actor, params }) => json(await resetAllMachines(db, actor, params.id)));
