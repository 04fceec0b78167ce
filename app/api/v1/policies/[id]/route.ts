import { apiRoute, json } from "@/lib/api/handler";
import { deleteRule, updateRule } from "@/lib/policy/policies";
import { ruleUpdate } from "@/lib/policy/input";

export const PATCH = apiRoute({ body: ruleUpdate, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await updateRule(db, actor, params.id, body)),
);

export const DELETE = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => {
  await deleteRule(db, actor, params.id);
  return new Response(null, { status: 204 });
});
