import { apiRoute, json } from "@/lib/api/handler";
import { courseView, updateCourse } from "@/lib/courses/queries";
import { courseUpdateInput } from "@/lib/courses/input";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ db, actor, params }) => json(await courseView(db, actor, params.id)));

/** The teacher raises or lowers the capacity, or moves the end date. */
export const PATCH = apiRoute({ body: courseUpdateInput }, async ({ db, actor, params, body }) => json(await updateCourse(db, actor, params.id, body)));
