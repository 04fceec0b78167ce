import { apiRoute, json } from "@/lib/api/handler";
import { createCourse, listCourses } from "@/lib/courses/queries";
import { courseInput } from "@/lib/courses/input";

export const dynamic = "force-dynamic";

/** Courses I teach (all for admins) and courses I attend, with my lab machine. */
export const GET = apiRoute({}, async ({ db, actor }) => json(await listCourses(db, actor)));

export const POST = apiRoute({ body: courseInput }, async ({ db, actor, body }) => {
  const created = await createCourse(db, actor, body);
  return json(created, 201, { Location: `/api/v1/courses/${created.id}` });
});
