import { asc, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { groups, images, policyDecisions, policyRules } from "../db/schema";
import { evaluate, type PolicyDecision, type PolicyRequest, type Rule, type RuleNames } from "./rules";

export type { PolicyDecision, PolicyRequest };

/** The admin's rules, in their order. */
export async function loadRules(db: Db): Promise<(Rule & { position: number })[]> {
  const rows = await db.select().from(policyRules).orderBy(asc(policyRules.position), asc(policyRules.createdAt));
  return rows.map((r) => ({ id: r.id, name: r.name, enabled: r.enabled, outcome: r.outcome, conditions: r.conditions, note: r.note, position: r.position }));
}

/** Names of the groups and images `rules` refer to. */
export async function ruleNames(db: Db, rules: Pick<Rule, "conditions">[]): Promise<RuleNames> {
  const groupIds = [...new Set(rules.flatMap((r) => r.conditions.groups ?? []))];
  const imageIds = [...new Set(rules.flatMap((r) => r.conditions.images ?? []))];
  const [g, i] = await Promise.all([
    groupIds.length ? db.select({ id: groups.id, name: groups.name }).from(groups).where(inArray(groups.id, groupIds)) : [],
    imageIds.length ? db.select({ id: images.id, name: images.name }).from(images).where(inArray(images.id, imageIds)) : [],
  ]);
  return { groups: new Map(g.map((x) => [x.id, x.name])), images: new Map(i.map((x) => [x.id, x.name])) };
}

/** Runs the policy engine on an order request: the first matching rule, else the default. */
export async function decideOrder(db: Db, request: PolicyRequest): Promise<PolicyDecision> {
  const rules = await loadRules(db);
  return evaluate(rules, request, await ruleNames(db, rules));
}

/** Stores a decision with the rule that made it (refused requests have no order). */
export async function recordDecision(
  db: Db,
  d: PolicyDecision & { orderId: string | null; userId: string; groupId: string | null; request?: Record<string, unknown> },
): Promise<void> {
  await db.insert(policyDecisions).values({
    orderId: d.orderId,
    userId: d.userId,
    groupId: d.groupId,
    ruleId: d.ruleId,
    ruleKey: d.ruleKey,
    ruleName: d.ruleName,
    outcome: d.outcome,
    explanation: d.explanation,
    request: d.request ?? {},
  });
}
