import { apiRoute, json } from "@/lib/api/handler";
import { courseView } from "@/lib/db/queries/courses";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ db, actor, params }) => json(await courseView(db, actor, params.id)));
