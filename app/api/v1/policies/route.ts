import { apiRoute, json } from "@/lib/api/handler";
import { createRule, listRules } from "@/lib/policy/policies";
import { ruleInput } from "@/lib/policy/input";

export const dynamic = "force-dynamic";

/** The approval rules in order, each with its explanation in words. */
export const GET = apiRoute({ roles: ["admin", "approver"] }, async ({ db }) => json({ rules: await listRules(db) }));

export const POST = apiRoute({ body: ruleInput, roles: ["admin"] }, async ({ db, actor, body }) => {
  const rule = await createRule(db, actor, body);
  return json(rule, 201, { Location: `/api/v1/policies/${rule.id}` });
});
