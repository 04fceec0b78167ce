import { and, asc, count, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { flavors, groups, groupSettings, hosts, images, memberships, networks, quotas, users } from "../db/schema";
import { conflict, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import type { GroupInput, GroupSettingsInput, MemberInput, QuotaLimitsInput } from "./input";
import { limitsOf, limitsOfRow, noLimits, setLimits, type Limits } from "./quota";
import type { HostPool } from "./placement";
import type { Actor } from "../auth/actor";
import { isUuid } from "../validation/ids";
import { afterTextKey, LIST_PER_PAGE, pageOf } from "../validation/cursor";

export type GroupSettings = { imageIds: string[]; flavorIds: string[]; networkIds: string[]; hostIds: string[]; hostTags: string[] };
const openSettings: GroupSettings = { imageIds: [], flavorIds: [], networkIds: [], hostIds: [], hostTags: [] };

/** What the group may use (empty lists: everything). */
export async function settingsOf(db: Db, groupId: string): Promise<GroupSettings> {
  const [row] = await db.select().from(groupSettings).where(eq(groupSettings.groupId, groupId));
  return settingsOfRow(row);
}

/** The settings a group_settings row holds (everything open without a row). */
export function settingsOfRow(row: GroupSettings | undefined): GroupSettings {
  return row ? { imageIds: row.imageIds, flavorIds: row.flavorIds, networkIds: row.networkIds, hostIds: row.hostIds, hostTags: row.hostTags } : openSettings;
}

/** The hosts placement restricts the group's orders to, or null when any host will do. */
export async function hostPoolOf(db: Db, groupId: string): Promise<HostPool | null> {
  const [row] = await db
    .select({ name: groups.name, hostIds: groupSettings.hostIds, hostTags: groupSettings.hostTags })
    .from(groupSettings)
    .innerJoin(groups, eq(groups.id, groupSettings.groupId))
    .where(eq(groupSettings.groupId, groupId));
  return row ? poolOf(row.name, row) : null;
}

/** hostPoolOf for a group whose name and settings are already at hand. */
export function poolOf(groupName: string, settings: Pick<GroupSettings, "hostIds" | "hostTags">): HostPool | null {
  if (settings.hostIds.length === 0 && settings.hostTags.length === 0) return null;
  return { name: `group ${groupName}`, hostIds: settings.hostIds, hostTags: settings.hostTags };
}

/** Limits in the form the API and the admin page show: memory in GiB. */
export function limitsView(l: Limits) {
  return { environments: l.environments, vcpus: l.vcpus, memoryGb: l.memoryMb === null ? null : l.memoryMb / 1024, diskGb: l.diskGb, licensedCores: l.licensedCores };
}

export function limitsFromInput(i: QuotaLimitsInput): Limits {
  return { environments: i.environments, vcpus: i.vcpus, memoryMb: i.memoryGb === null ? null : Math.round(i.memoryGb * 1024), diskGb: i.diskGb, licensedCores: i.licensedCores };
}

/** The groups `where` picks (all when undefined), by name, at most `limit`, with their members, settings and quota. */
async function adminGroups(db: Db, where: SQL | undefined, limit?: number) {
  const query = db.select().from(groups).where(where).orderBy(asc(groups.name), asc(groups.id)).$dynamic();
  const rows = limit === undefined ? await query : await query.limit(limit);
  if (rows.length === 0) return [];
  const ids = rows.map((g) => g.id);
  const [settings, limits, members] = await Promise.all([
    db.select().from(groupSettings).where(inArray(groupSettings.groupId, ids)),
    db.select().from(quotas).where(inArray(quotas.groupId, ids)),
    db
      .select({ groupId: memberships.groupId, userId: users.id, email: users.email, name: users.name, userRole: users.role, role: memberships.role })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(inArray(memberships.groupId, ids))
      .orderBy(asc(users.email)),
  ]);
  const membersOf = new Map<string, Omit<(typeof members)[number], "groupId">[]>();
  for (const { groupId, ...m } of members) {
    const list = membersOf.get(groupId) ?? [];
    list.push(m);
    membersOf.set(groupId, list);
  }
  const settingsOfGroup = new Map(settings.map((x) => [x.groupId, x]));
  const limitsOfGroup = new Map(limits.map((x) => [x.groupId, x]));
  return rows.map((g) => {
    const s = settingsOfGroup.get(g.id);
    const q = limitsOfGroup.get(g.id);
    return {
      id: g.id,
      slug: g.slug,
      name: g.name,
      kind: g.kind,
      autoApprove: g.autoApprove,
      settings: settingsOfRow(s),
      quota: limitsView(limitsOfRow(q)),
      members: membersOf.get(g.id) ?? [],
    };
  });
}

/**
 * Groups by name with their members, settings and quota (admins): a page of `limit` after
 * `cursor` (the previous page's nextCursor).
 */
export async function listGroupsForAdmin(db: Db, opts: { limit?: number; cursor?: string } = {}) {
  const limit = opts.limit ?? LIST_PER_PAGE;
  const after = afterTextKey(opts.cursor);
  const rows = await adminGroups(db, after ? sql`(${groups.name}, ${groups.id}) > (${after[0]}, ${after[1]}::uuid)` : undefined, limit + 1);
  const page = pageOf(rows, limit, (g) => [g.name, g.id]);
  return { groups: page.rows, nextCursor: page.nextCursor };
}

export type AdminGroup = Awaited<ReturnType<typeof adminGroups>>[number];

export async function groupForAdmin(db: Db, id: string): Promise<AdminGroup> {
  const [found] = isUuid(id) ? await adminGroups(db, eq(groups.id, id)) : [];
  if (!found) throw notFound("Group");
  return found;
}

/** The group of slug `slug` for its editor, or null. */
export async function groupForAdminBySlug(db: Db, slug: string): Promise<AdminGroup | null> {
  const [found] = await adminGroups(db, eq(groups.slug, slug));
  return found ?? null;
}

export async function createGroup(db: Db, actor: Actor, input: GroupInput) {
  const [taken] = await db.select({ id: groups.id }).from(groups).where(eq(groups.slug, input.slug));
  if (taken) throw conflict(`A group with slug ${input.slug} already exists`, "slug");
  const [row] = await db.insert(groups).values(input).onConflictDoNothing().returning();
  if (!row) throw conflict(`A group with slug ${input.slug} already exists`, "slug");
  await writeAudit(db, { actorId: actor.id, action: "group.create", targetType: "group", targetId: row.id, data: { ...input } });
  return groupForAdmin(db, row.id);
}

/** Checks that every id names something that exists; 422 naming the field otherwise. */
async function checkIds(db: Db, input: GroupSettingsInput) {
  const fields: Record<string, string[]> = {};
  const check = async (field: keyof GroupSettingsInput, ids: string[] | undefined, table: typeof images | typeof flavors | typeof networks | typeof hosts) => {
    if (!ids?.length) return;
    const t = table as typeof images;
    const found = await db.select({ id: t.id }).from(t).where(inArray(t.id, ids));
    if (found.length !== new Set(ids).size) fields[field] = ["Some of these no longer exist; reload the page"];
  };
  await check("imageIds", input.imageIds, images);
  await check("flavorIds", input.flavorIds, flavors);
  await check("networkIds", input.networkIds, networks);
  await check("hostIds", input.hostIds, hosts);
  if (input.networkIds?.length) {
    const nets = await db.select({ purpose: networks.purpose, name: networks.name }).from(networks).where(inArray(networks.id, input.networkIds));
    const service = nets.filter((n) => n.purpose !== "production");
    if (service.length) fields.networkIds = [`${service.map((n) => n.name).join(", ")}: orders choose production networks only`];
  }
  if (Object.keys(fields).length) throw new UserError("The group has invalid fields", 422, fields);
}

/** Changes a group's name, auto-approval and what it may use; audited. */
export async function updateGroup(db: Db, actor: Actor, id: string, input: GroupSettingsInput) {
  const [group] = await db.select().from(groups).where(eq(groups.id, id));
  if (!group) throw notFound("Group");
  await checkIds(db, input);
  await db.transaction(async (tx) => {
    if (input.name !== undefined || input.autoApprove !== undefined) {
      await tx.update(groups).set({ name: input.name ?? group.name, autoApprove: input.autoApprove ?? group.autoApprove }).where(eq(groups.id, id));
    }
    const { name: _n, autoApprove: _a, ...lists } = input;
    if (Object.keys(lists).length) {
      const set = { ...lists, ...(lists.hostTags ? { hostTags: [...new Set(lists.hostTags)] } : {}), updatedAt: new Date() };
      await tx.insert(groupSettings).values({ groupId: id, ...set }).onConflictDoUpdate({ target: groupSettings.groupId, set });
    }
    await writeAudit(tx, { actorId: actor.id, action: "group.update", targetType: "group", targetId: id, data: { ...input } });
  });
  return groupForAdmin(db, id);
}

/** Sets a group's quota (null limits: none); audited. */
export async function setGroupQuota(db: Db, actor: Actor, groupId: string, input: QuotaLimitsInput) {
  const [group] = await db.select({ id: groups.id }).from(groups).where(eq(groups.id, groupId));
  if (!group) throw notFound("Group");
  const row = await setLimits(db, { groupId }, limitsFromInput(input));
  await writeAudit(db, { actorId: actor.id, action: "quota.set", targetType: "group", targetId: groupId, data: { ...input } });
  return { groupId, limits: limitsView(row) };
}

/** Sets a user's own quota across every group; audited. */
export async function setUserQuota(db: Db, actor: Actor, userId: string, input: QuotaLimitsInput) {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) throw notFound("User");
  const row = await setLimits(db, { userId }, limitsFromInput(input));
  await writeAudit(db, { actorId: actor.id, action: "quota.set", targetType: "user", targetId: userId, data: { ...input } });
  return { userId, limits: limitsView(row) };
}

export async function userQuota(db: Db, userId: string) {
  return limitsView(await limitsOf(db, { userId }));
}

/** Adds a user to a group, or changes their role in it; audited. */
export async function setMember(db: Db, actor: Actor, groupId: string, input: MemberInput) {
  const [group] = await db.select({ id: groups.id }).from(groups).where(eq(groups.id, groupId));
  if (!group) throw notFound("Group");
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (!user) throw new UserError(`No user with e-mail ${input.email}`, 422, { email: ["No such user; create the user first"] });
  await db
    .insert(memberships)
    .values({ userId: user.id, groupId, role: input.role })
    .onConflictDoUpdate({ target: [memberships.userId, memberships.groupId], set: { role: input.role } });
  await writeAudit(db, { actorId: actor.id, action: "group.member.set", targetType: "group", targetId: groupId, data: { user: input.email, role: input.role } });
  return groupForAdmin(db, groupId);
}

export async function removeMember(db: Db, actor: Actor, groupId: string, userId: string) {
  const removed = await db
    .delete(memberships)
    .where(and(eq(memberships.groupId, groupId), eq(memberships.userId, userId)))
    .returning({ userId: memberships.userId });
  if (removed.length === 0) throw notFound("Member");
  await writeAudit(db, { actorId: actor.id, action: "group.member.remove", targetType: "group", targetId: groupId, data: { userId } });
}

/** The groups an actor belongs to (customers choose which one an order counts against). */
export async function groupsOf(db: Db, userId: string) {
  return db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, kind: groups.kind, autoApprove: groups.autoApprove, role: memberships.role })
    .from(memberships)
    .innerJoin(groups, eq(groups.id, memberships.groupId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(groups.name));
}

/** Groups with their member counts. */
export async function listGroupsWithMembers(db: Db) {
  const rows = await db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, kind: groups.kind, autoApprove: groups.autoApprove, members: count(memberships.userId) })
    .from(groups)
    .leftJoin(memberships, eq(memberships.groupId, groups.id))
    .groupBy(groups.id)
    .orderBy(asc(groups.name));
  return rows;
}
