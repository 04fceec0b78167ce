import { apiRoute, json } from "@/lib/api/handler";
import { signInRuleUpdate } from "@/lib/auth/sign-in-input";
import { deleteSignInRule, updateSignInRule } from "@/lib/auth/sign-in-rules";

export const PATCH = apiRoute({ body: signInRuleUpdate, roles: ["admin"] }, async ({ db, actor, params, body }) => json(await updateSignInRule(db, actor, params.id, body)));

export const DELETE = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => {
  await deleteSignInRule(db, actor, params.id);
  return new Response(null, { status: 204 });
});
