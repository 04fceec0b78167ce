import { apiRoute, json } from "@/lib/api/handler";
import { reorderRules } from "@/lib/policy/policies";
import { ruleOrder } from "@/lib/policy/input";

/** `{ ids }`: every rule's id once, first rule first. */
export const POST = apiRoute({ body: ruleOrder, roles: ["admin"] }, async ({ db, actor, body }) =>
  json({ rules: await reorderRules(db, actor, body.ids) }),
);
