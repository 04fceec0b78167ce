import { asc, count, desc, eq, ilike, inArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { groups, memberships, users } from "../db/schema";
import { newUserInput, type NewUser } from "./input";
import { hashPassword } from "../auth/password";
import { conflict, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import type { Actor } from "../auth/actor";
import { afterTextKey, LIST_PER_PAGE, pageOf } from "../validation/cursor";
import { escapeLike } from "../validation/fields";

export { newUserInput, type NewUser };

/** Creates a user in a group (the default pool unless named); approvers approve for it. */
export async function createUser(db: Db, actor: Actor | null, input: NewUser) {
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (existing) throw conflict(`A user with e-mail ${input.email} already exists`);
  const [group] = input.group
    ? await db.select().from(groups).where(eq(groups.slug, input.group))
    : await db.select().from(groups).orderBy(asc(groups.createdAt)).limit(1);
  if (!group) throw new UserError(`No group "${input.group ?? "default"}"`, 422, { group: ["No such group"] });
  const passwordHash = await hashPassword(input.password);
  const user = await db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ email: input.email, name: input.name, role: input.role, passwordHash }).returning();
    await tx.insert(memberships).values({
      userId: user.id,
      groupId: group.id,
      role: input.role === "approver" || input.role === "admin" ? "approver" : "customer",
    });
    return user;
  });
  await writeAudit(db, { actorId: actor?.id ?? null, action: "user.create", targetType: "user", targetId: user.id, data: { email: user.email, role: user.role, group: group.slug }, after: { email: user.email, name: user.name, role: user.role, group: group.slug } });
  return { id: user.id, email: user.email, name: user.name, role: user.role, group: group.slug };
}

export async function listUsers(db: Db) {
  return db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabled: users.disabled, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.email));
}

export async function listGroups(db: Db) {
  return db.select().from(groups).orderBy(asc(groups.name));
}

/**
 * Users by e-mail, a page of `limit` after `cursor` (the previous page's nextCursor), for the
 * API: one statement whatever the number of users.
 */
export async function listUsersPage(db: Db, opts: { limit?: number; cursor?: string } = {}) {
  const limit = opts.limit ?? LIST_PER_PAGE;
  const after = afterTextKey(opts.cursor);
  const rows = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabled: users.disabled, createdAt: users.createdAt })
    .from(users)
    .where(after ? sql`(${users.email}, ${users.id}) > (${after[0]}, ${after[1]}::uuid)` : undefined)
    .orderBy(asc(users.email), asc(users.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit, (u) => [u.email, u.id]);
  return { users: page.rows, nextCursor: page.nextCursor };
}

/**
 * One page of users, newest first, with the groups they belong to, for the admin page: `perPage`
 * from `offset`, those whose e-mail contains `email` when given, and how many there are.
 */
export async function listUsersWithGroups(db: Db, opts: { offset: number; perPage: number; email?: string }) {
  const where: SQL | undefined = opts.email ? ilike(users.email, `%${escapeLike(opts.email)}%`) : undefined;
  const [rows, [{ total }]] = await Promise.all([
    db
      .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabled: users.disabled, createdAt: users.createdAt })
      .from(users)
      .where(where)
      .orderBy(desc(users.createdAt), desc(users.id))
      .offset(opts.offset)
      .limit(opts.perPage),
    db.select({ total: count() }).from(users).where(where),
  ]);
  const links = rows.length
    ? await db
        .select({ userId: memberships.userId, group: groups.name, slug: groups.slug, as: memberships.role })
        .from(memberships)
        .innerJoin(groups, eq(groups.id, memberships.groupId))
        .where(inArray(memberships.userId, rows.map((u) => u.id)))
        .orderBy(asc(groups.name))
    : [];
  const byUser = new Map<string, { name: string; slug: string; as: (typeof links)[number]["as"] }[]>();
  for (const l of links) {
    const list = byUser.get(l.userId) ?? [];
    list.push({ name: l.group, slug: l.slug, as: l.as });
    byUser.set(l.userId, list);
  }
  return { users: rows.map((u) => ({ ...u, groups: byUser.get(u.id) ?? [] })), total };
}

/** The caller as GET /api/v1/me shows them: who, their role, how they sign in, their groups. */
export async function userProfile(db: Db, userId: string) {
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, authSource: users.authSource })
    .from(users)
    .where(eq(users.id, userId));
  if (!user) throw notFound("User");
  const groupsOf = await db
    .select({ slug: groups.slug, name: groups.name, as: memberships.role })
    .from(memberships)
    .innerJoin(groups, eq(groups.id, memberships.groupId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(groups.name));
  return { ...user, groups: groupsOf };
}
