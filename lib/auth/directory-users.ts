import { and, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { groups, memberships, users, type AuthSource, type Role } from "../db/schema";
import { writeAudit } from "../audit/write";
import { accessFor } from "./mapping";
import { mappingRules } from "./sign-in-rules";

/**
 * Users who sign in through the directory (LDAP) or single sign-on (OIDC): created at their
 * first sign-in, and at every sign-in given their e-mail and name from there, and the role and
 * memberships the mapping rules give their groups. Only memberships in groups that some rule
 * names are managed this way; those an admin added by hand elsewhere stay.
 */

/** Stands in for a password: matches no password (verifyPassword knows no such scheme). */
export const EXTERNAL_PASSWORD = "!external";

export type ExternalIdentity = {
  method: Exclude<AuthSource, "local">;
  /** The LDAP entry's DN, or the OIDC subject. */
  externalId: string;
  email: string;
  name: string;
  groups: string[];
};

export type ExternalSignIn =
  | { ok: true; user: { id: string; email: string; name: string; role: Role; sessionVersion: number; noAccess: boolean } }
  | { ok: false; refusal: "disabled" | "local-admin" };

export async function signInExternal(db: Db, identity: ExternalIdentity): Promise<ExternalSignIn> {
  const rules = await mappingRules(db);
  const access = accessFor(rules, identity.groups);
  const managed = [...new Set(rules.flatMap((r) => (r.groupId ? [r.groupId] : [])))];
  const outcome = await db.transaction(async (tx) => {
    const [byAccount] = await tx.select().from(users).where(and(eq(users.authSource, identity.method), eq(users.externalId, identity.externalId)));
    const [byEmail] = byAccount ? [] : await tx.select().from(users).where(eq(users.email, identity.email));
    const existing = byAccount ?? byEmail;
    if (existing?.disabled) return { ok: false as const, refusal: "disabled" as const, userId: existing.id };
    // A directory that names a local admin's e-mail must not get the admin's account.
    if (existing && existing.authSource === "local" && existing.role === "admin") return { ok: false as const, refusal: "local-admin" as const, userId: existing.id };
    // A changed e-mail already taken by another user: the account keeps its e-mail.
    const emailTaken = existing && existing.email !== identity.email
      ? (await tx.select({ id: users.id }).from(users).where(and(eq(users.email, identity.email), ne(users.id, existing.id)))).length > 0
      : false;
    const fields = {
      ...(emailTaken ? {} : { email: identity.email }),
      name: identity.name,
      authSource: identity.method,
      externalId: identity.externalId,
      passwordHash: EXTERNAL_PASSWORD,
      directoryGroups: identity.groups,
      noAccess: access.role === null,
      ...(access.role ? { role: access.role } : {}),
    };
    const [user] = existing
      ? await tx.update(users).set(fields).where(eq(users.id, existing.id)).returning()
      : await tx.insert(users).values({ email: identity.email, ...fields }).returning();
    const had = managed.length
      ? await tx.select({ groupId: memberships.groupId, role: memberships.role }).from(memberships).where(and(eq(memberships.userId, user.id), inArray(memberships.groupId, managed)))
      : [];
    const gone = had.filter((m) => !access.memberships.has(m.groupId)).map((m) => m.groupId);
    if (gone.length) await tx.delete(memberships).where(and(eq(memberships.userId, user.id), inArray(memberships.groupId, gone)));
    for (const [groupId, role] of access.memberships) {
      await tx.insert(memberships).values({ userId: user.id, groupId, role }).onConflictDoUpdate({ target: [memberships.userId, memberships.groupId], set: { role } });
    }
    const slugs = new Map(
      managed.length ? (await tx.select({ id: groups.id, slug: groups.slug }).from(groups).where(inArray(groups.id, managed))).map((g) => [g.id, g.slug]) : [],
    );
    const named = (list: { groupId: string; role: string }[]) => list.map((m) => `${slugs.get(m.groupId)} (${m.role})`).sort();
    const before = existing ? { role: existing.role, noAccess: existing.noAccess, groups: named(had) } : null;
    const after = { role: user.role, noAccess: user.noAccess, groups: named([...access.memberships].map(([groupId, role]) => ({ groupId, role }))) };
    await writeAudit(tx, {
      actorId: user.id,
      action: "auth.sign_in",
      targetType: "user",
      targetId: user.id,
      data: { method: identity.method, email: user.email, created: !existing, directoryGroups: identity.groups, noAccess: user.noAccess },
      ...(JSON.stringify(before) === JSON.stringify(after) ? {} : { before, after }),
    });
    return { ok: true as const, user };
  });
  if (!outcome.ok) {
    await writeAudit(db, {
      actorId: null,
      action: "auth.sign_in_refused",
      targetType: "user",
      targetId: outcome.userId,
      data: { method: identity.method, email: identity.email, reason: outcome.refusal === "disabled" ? "account disabled" : "e-mail of a local administrator" },
    });
    return { ok: false, refusal: outcome.refusal };
  }
  const u = outcome.user;
  return { ok: true, user: { id: u.id, email: u.email, name: u.name, role: u.role, sessionVersion: u.sessionVersion, noAccess: u.noAccess } };
}
