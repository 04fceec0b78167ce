import { apiRoute, json } from "@/lib/api/handler";
import { signInRuleInput } from "@/lib/auth/sign-in-input";
import { createSignInRule, listSignInRules } from "@/lib/auth/sign-in-rules";

export const dynamic = "force-dynamic";

/** How directory and single sign-on groups become roles and memberships (admins). */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db }) => json({ rules: await listSignInRules(db) }));

export const POST = apiRoute({ body: signInRuleInput, roles: ["admin"] }, async ({ db, actor, body }) => {
  const rule = await createSignInRule(db, actor, body);
  return json(rule, 201, { Location: `/api/v1/sign-in/rules/${rule.id}` });
});
