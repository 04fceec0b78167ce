import { and, asc, eq, isNull, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { groups, signInRules } from "../db/schema";
import { conflict, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { isUuid } from "../validation/ids";
import type { Actor } from "./actor";
import { normalGroup, type MappingRule } from "./mapping";
import type { SignInRuleInput, SignInRuleUpdate } from "./sign-in-input";

/** The rules with their group, by what they match, then role. */
export async function listSignInRules(db: Db, where?: SQL) {
  const rows = await db
    .select({ id: signInRules.id, match: signInRules.match, role: signInRules.role, createdAt: signInRules.createdAt, groupId: groups.id, groupSlug: groups.slug, groupName: groups.name })
    .from(signInRules)
    .leftJoin(groups, eq(groups.id, signInRules.groupId))
    .where(where)
    .orderBy(asc(signInRules.match), asc(signInRules.role), asc(signInRules.createdAt));
  return rows.map(({ groupId, groupSlug, groupName, ...r }) => ({ ...r, group: groupId ? { id: groupId, slug: groupSlug!, name: groupName! } : null }));
}

export type SignInRuleView = Awaited<ReturnType<typeof listSignInRules>>[number];

/** The rules as the mapping applies them. */
export async function mappingRules(db: Db): Promise<MappingRule[]> {
  return db.select({ match: signInRules.match, role: signInRules.role, groupId: signInRules.groupId }).from(signInRules);
}

async function ruleView(db: Db, id: string): Promise<SignInRuleView> {
  const [found] = isUuid(id) ? await listSignInRules(db, eq(signInRules.id, id)) : [];
  if (!found) throw notFound("Sign-in rule");
  return found;
}

/** The group id for a slug (null for none); 422 naming the field when there is no such group. */
async function groupIdOf(db: Db, slug: string | null | undefined): Promise<string | null> {
  if (!slug) return null;
  const [group] = await db.select({ id: groups.id }).from(groups).where(eq(groups.slug, slug));
  if (!group) throw new UserError(`No group "${slug}"`, 422, { group: ["No such group"] });
  return group.id;
}

const DUPLICATE = "A rule with this group, role and portal group exists already";

export async function createSignInRule(db: Db, actor: Actor, input: SignInRuleInput): Promise<SignInRuleView> {
  const values = { match: normalGroup(input.match), role: input.role, groupId: await groupIdOf(db, input.group) };
  const [row] = await db.insert(signInRules).values(values).onConflictDoNothing().returning({ id: signInRules.id });
  if (!row) throw conflict(DUPLICATE, "match");
  const view = await ruleView(db, row.id);
  await writeAudit(db, { actorId: actor.id, action: "sign_in_rule.create", targetType: "sign_in_rule", targetId: row.id, after: viewForAudit(view) });
  return view;
}

export async function updateSignInRule(db: Db, actor: Actor, id: string, input: SignInRuleUpdate): Promise<SignInRuleView> {
  const before = await ruleView(db, id);
  const set = {
    ...(input.match !== undefined ? { match: normalGroup(input.match) } : {}),
    ...(input.role !== undefined ? { role: input.role } : {}),
    ...(input.group !== undefined ? { groupId: await groupIdOf(db, input.group) } : {}),
  };
  if (Object.keys(set).length) {
    const next = { match: set.match ?? before.match, role: set.role ?? before.role, groupId: "groupId" in set ? set.groupId : (before.group?.id ?? null) };
    const same = await db
      .select({ id: signInRules.id })
      .from(signInRules)
      .where(and(eq(signInRules.match, next.match), eq(signInRules.role, next.role), next.groupId ? eq(signInRules.groupId, next.groupId) : isNull(signInRules.groupId)));
    if (same.some((r) => r.id !== id)) throw conflict(DUPLICATE, "match");
    await db.update(signInRules).set(set).where(eq(signInRules.id, id));
  }
  const after = await ruleView(db, id);
  await writeAudit(db, { actorId: actor.id, action: "sign_in_rule.update", targetType: "sign_in_rule", targetId: id, before: viewForAudit(before), after: viewForAudit(after) });
  return after;
}

export async function deleteSignInRule(db: Db, actor: Actor, id: string): Promise<void> {
  const before = await ruleView(db, id);
  await db.delete(signInRules).where(eq(signInRules.id, id));
  await writeAudit(db, { actorId: actor.id, action: "sign_in_rule.delete", targetType: "sign_in_rule", targetId: id, before: viewForAudit(before) });
}

function viewForAudit(r: SignInRuleView) {
  return { match: r.match, role: r.role, group: r.group?.slug ?? null };
}
