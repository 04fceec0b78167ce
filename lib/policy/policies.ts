import { asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { groups, policyDecisions, policyRules, users } from "../db/schema";
import { notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { lockForTransaction } from "../db/locks";
import { loadRules, ruleNames } from "./approval";
import { explainRule } from "./rules";
import type { RuleInput, RuleUpdate } from "./input";
import type { Actor } from "../auth/actor";

/** The rules in their order, each with the words customers and approvers will read. */
export async function listRules(db: Db) {
  const rules = await loadRules(db);
  const names = await ruleNames(db, rules);
  return rules.map((r, i) => ({ ...r, position: i + 1, explanation: explainRule(r, names) }));
}

export type RuleView = Awaited<ReturnType<typeof listRules>>[number];

async function ruleView(db: Db, id: string): Promise<RuleView> {
  const found = (await listRules(db)).find((r) => r.id === id);
  if (!found) throw notFound("Rule");
  return found;
}

/** Renumbers positions 1..n in the given order of ids. */
async function renumber(tx: Db, ids: string[]) {
  for (const [i, id] of ids.entries()) await tx.update(policyRules).set({ position: i + 1 }).where(eq(policyRules.id, id));
}

async function orderedIds(tx: Db): Promise<string[]> {
  const rows = await tx.select({ id: policyRules.id }).from(policyRules).orderBy(asc(policyRules.position), asc(policyRules.createdAt));
  return rows.map((r) => r.id);
}

function place(ids: string[], id: string, position: number | undefined): string[] {
  const rest = ids.filter((x) => x !== id);
  const at = position === undefined ? rest.length : Math.min(Math.max(position - 1, 0), rest.length);
  return [...rest.slice(0, at), id, ...rest.slice(at)];
}

export async function createRule(db: Db, actor: Actor, input: RuleInput) {
  const id = await db.transaction(async (tx) => {
    await lockForTransaction(tx, "policyRules");
    const [row] = await tx
      .insert(policyRules)
      .values({ name: input.name, outcome: input.outcome, conditions: input.conditions, note: input.note || null, enabled: input.enabled, position: sql`(select coalesce(max(position), 0) + 1 from policy_rules)` })
      .returning();
    await renumber(tx, place(await orderedIds(tx), row.id, input.position));
    await writeAudit(tx, { actorId: actor.id, action: "policy.create", targetType: "policy_rule", targetId: row.id, data: { ...input } });
    return row.id;
  });
  return ruleView(db, id);
}

export async function updateRule(db: Db, actor: Actor, id: string, input: RuleUpdate) {
  await db.transaction(async (tx) => {
    await lockForTransaction(tx, "policyRules");
    const [row] = await tx.select().from(policyRules).where(eq(policyRules.id, id));
    if (!row) throw notFound("Rule");
    const { position, ...rest } = input;
    await tx
      .update(policyRules)
      .set({ ...rest, ...(rest.note !== undefined ? { note: rest.note || null } : {}), updatedAt: new Date() })
      .where(eq(policyRules.id, id));
    if (position !== undefined) await renumber(tx, place(await orderedIds(tx), id, position));
    await writeAudit(tx, { actorId: actor.id, action: "policy.update", targetType: "policy_rule", targetId: id, data: { ...input } });
  });
  return ruleView(db, id);
}

export async function deleteRule(db: Db, actor: Actor, id: string) {
  await db.transaction(async (tx) => {
    await lockForTransaction(tx, "policyRules");
    const [row] = await tx.delete(policyRules).where(eq(policyRules.id, id)).returning();
    if (!row) throw notFound("Rule");
    await renumber(tx, await orderedIds(tx));
    await writeAudit(tx, { actorId: actor.id, action: "policy.delete", targetType: "policy_rule", targetId: id, data: { name: row.name, outcome: row.outcome, conditions: row.conditions } });
  });
}

/** Puts the rules in the order of `ids`, which must list every rule once. */
export async function reorderRules(db: Db, actor: Actor, ids: string[]) {
  await db.transaction(async (tx) => {
    await lockForTransaction(tx, "policyRules");
    const current = await orderedIds(tx);
    const same = ids.length === current.length && new Set(ids).size === ids.length && ids.every((id) => current.includes(id));
    if (!same) throw new UserError("List every rule exactly once", 422, { ids: [`Expected the ${current.length} rule ids, each once`] });
    await renumber(tx, ids);
    await writeAudit(tx, { actorId: actor.id, action: "policy.reorder", targetType: "policy_rule", data: { ids } });
  });
  return listRules(db);
}

/** The policy decision each order got at submission (its first), by order id. */
export async function decisionsFor(db: Db, orderIds: string[]) {
  type Decision = { rule: string; ruleKey: string; outcome: string; explanation: string };
  if (orderIds.length === 0) return new Map<string, Decision>();
  const rows = await db
    .select({
      orderId: policyDecisions.orderId, rule: policyDecisions.ruleName, ruleKey: policyDecisions.ruleKey, outcome: policyDecisions.outcome,
      explanation: policyDecisions.explanation,
    })
    .from(policyDecisions)
    .where(inArray(policyDecisions.orderId, orderIds))
    .orderBy(asc(policyDecisions.id));
  const out = new Map<string, Decision>();
  for (const r of rows) if (r.orderId && !out.has(r.orderId)) out.set(r.orderId, r);
  return out;
}

/** The latest decisions, refusals included (they have no order), newest first. */
export async function recentDecisions(db: Db, limit = 20) {
  return db
    .select({
      id: policyDecisions.id, at: policyDecisions.at, outcome: policyDecisions.outcome, rule: policyDecisions.ruleName,
      explanation: policyDecisions.explanation, orderId: policyDecisions.orderId, user: users.email, group: groups.name,
      request: policyDecisions.request,
    })
    .from(policyDecisions)
    .innerJoin(users, eq(users.id, policyDecisions.userId))
    .leftJoin(groups, eq(groups.id, policyDecisions.groupId))
    .orderBy(desc(policyDecisions.id))
    .limit(limit);
}
