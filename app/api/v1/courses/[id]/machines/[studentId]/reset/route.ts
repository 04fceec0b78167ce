import { apiRoute, json } from "@/lib/api/handler";
import { resetMachine } from "@/lib/courses/machines";
import { uuidParam } from "@/lib/validation/ids";

export const POST = apiRoute({}, async ({ db, actor, params }) =>
  json(await resetMachine(db, actor, params.id, uuidParam(params.studentId, "Student"))),
);
