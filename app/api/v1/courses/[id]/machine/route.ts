import { apiRoute, json } from "@/lib/api/handler";
import { requestMachine } from "@/lib/courses/machines";

/** "Get my lab machine": 201 with the new machine, or 200 with the one I already have. */
export const POST = apiRoute({}, async ({ db, actor, params }) => {
  const machine = await requestMachine(db, actor, params.id);
  return json(machine, machine.created ? 201 : 200);
});
