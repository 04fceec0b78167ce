import { and, desc, eq, gte, ilike, lte, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditEvents, courses, environments, groups, hosts, images, networks, orders, policyRules, users } from "../db/schema";
import type { AuditQuery } from "./input";
import { isUuid } from "../validation/ids";
import { escapeLike } from "../validation/fields";
import { UserError } from "../errors";
import { decodeCursor, isCursorTime, pageOf } from "../validation/cursor";


/** `%text%` for ILIKE with the user's % and _ taken literally. */
const contains = (text: string) => `%${escapeLike(text)}%`;

function conditions(f: Omit<AuditQuery, "page" | "perPage" | "format" | "cursor">): SQL[] {
  const where: SQL[] = [];
  if (f.actor) {
    where.push(
      isUuid(f.actor)
        ? eq(auditEvents.actorId, f.actor)
        : f.actor.toLowerCase() === "system"
          ? sql`${auditEvents.actorId} is null`
          : ilike(users.email, contains(f.actor)),
    );
  }
  // "order.approve" matches that action; "order" or "order." every order action.
  if (f.action) where.push(f.action.includes(".") && !f.action.endsWith(".") ? eq(auditEvents.action, f.action) : ilike(auditEvents.action, `${escapeLike(f.action.replace(/\.$/, ""))}.%`));
  if (f.target) {
    where.push(
      isUuid(f.target)
        ? eq(auditEvents.targetId, f.target)
        : or(eq(auditEvents.targetType, f.target), ilike(auditEvents.targetId, contains(f.target)))!,
    );
  }
  if (f.from) where.push(gte(auditEvents.at, f.from));
  if (f.to) where.push(lte(auditEvents.at, f.to));
  if (f.q) {
    const like = contains(f.q);
    where.push(
      or(
        ilike(auditEvents.action, like),
        ilike(auditEvents.targetType, like),
        ilike(auditEvents.targetId, like),
        ilike(users.email, like),
        ilike(auditEvents.sourceIp, like),
        ilike(auditEvents.userAgent, like),
        sql`${auditEvents.data}::text ilike ${like}`,
        sql`coalesce(${auditEvents.before}::text, '') ilike ${like}`,
        sql`coalesce(${auditEvents.after}::text, '') ilike ${like}`,
      )!,
    );
  }
  return where;
}

const columns = {
  id: auditEvents.id,
  at: auditEvents.at,
  actorId: auditEvents.actorId,
  actorEmail: users.email,
  action: auditEvents.action,
  targetType: auditEvents.targetType,
  targetId: auditEvents.targetId,
  sourceIp: auditEvents.sourceIp,
  userAgent: auditEvents.userAgent,
  data: auditEvents.data,
  before: auditEvents.before,
  after: auditEvents.after,
};

/** What people know a target by, per kind of target: an order's or host's name, a user's e-mail. */
const targetLabels = {
  order: [orders, orders.id, orders.name],
  environment: [environments, environments.id, environments.hostname],
  host: [hosts, hosts.id, hosts.name],
  user: [users, users.id, users.email],
  image: [images, images.id, images.name],
  group: [groups, groups.id, groups.name],
  network: [networks, networks.id, networks.name],
  course: [courses, courses.id, courses.name],
  policy_rule: [policyRules, policyRules.id, policyRules.name],
} as const;

/**
 * The names of a page's targets, keyed `type:id`, in one statement (a UNION of primary-key
 * lookups, one per kind of target on the page) however many rows the page has.
 */
async function targetNames(db: Db, events: { targetType: string; targetId: string | null }[]): Promise<Map<string, string>> {
  const ids = new Map<keyof typeof targetLabels, Set<string>>();
  for (const e of events) {
    if (!e.targetId || !isUuid(e.targetId) || !Object.hasOwn(targetLabels, e.targetType)) continue;
    const type = e.targetType as keyof typeof targetLabels;
    ids.set(type, (ids.get(type) ?? new Set()).add(e.targetId));
  }
  if (!ids.size) return new Map();
  const parts = [...ids].map(([type, set]) => {
    const [table, id, label] = targetLabels[type];
    const list = sql.join([...set].map((v) => sql`${v}::uuid`), sql`, `);
    return sql`select ${type}::text as type, ${id}::text as id, ${label} as name from ${table} where ${id} in (${list})`;
  });
  const result = (await db.execute(sql.join(parts, sql` union all `))) as unknown as { rows: { type: string; id: string; name: string }[] };
  return new Map(result.rows.map((r) => [`${r.type}:${r.id}`, r.name]));
}

/** Matches counted at most: beyond, the log says "more than" instead of counting the whole table. */
export const AUDIT_COUNT_MAX = 10_000;

/**
 * One page of the audit log, newest first: after `cursor` (the previous page's nextCursor,
 * as fast on any page) or at `page`. `total` counts matches up to AUDIT_COUNT_MAX;
 * `totalCapped` says there are more.
 */
export async function searchAudit(db: Db, f: AuditQuery) {
  const after = f.cursor ? decodeCursor(f.cursor, 2) : null;
  if (f.cursor && (!after || !isCursorTime(after[0]) || !/^\d{1,18}$/.test(after[1]))) {
    throw new UserError("Invalid input", 422, { cursor: ["Not a cursor from this list: start again without one"] });
  }
  const filters = and(...conditions(f));
  const where = after ? and(filters, sql`(${auditEvents.at}, ${auditEvents.id}) < (${after[0]}::timestamptz, ${after[1]}::bigint)`) : filters;
  const [rows, [{ total }]] = await Promise.all([
    db
      .select({ ...columns, atExact: sql<string>`${auditEvents.at}::text` })
      .from(auditEvents)
      .leftJoin(users, eq(users.id, auditEvents.actorId))
      .where(where)
      .orderBy(desc(auditEvents.at), desc(auditEvents.id))
      .limit(f.perPage + 1)
      .offset(after ? 0 : (f.page - 1) * f.perPage),
    db
      .select({ total: sql<number>`count(*)::int` })
      .from(db.select({ one: sql`1`.as("one") }).from(auditEvents).leftJoin(users, eq(users.id, auditEvents.actorId)).where(filters).limit(AUDIT_COUNT_MAX + 1).as("matches")),
  ]);
  const page = pageOf(rows, f.perPage, (r) => [r.atExact, String(r.id)]);
  const names = await targetNames(db, page.rows);
  return {
    events: page.rows.map(({ atExact: _a, ...r }) => ({ ...r, at: r.at.toISOString(), targetName: (r.targetId && names.get(`${r.targetType}:${r.targetId}`)) ?? null })),
    page: f.page,
    perPage: f.perPage,
    total: Math.min(total, AUDIT_COUNT_MAX),
    totalCapped: total > AUDIT_COUNT_MAX,
    hasMore: page.nextCursor !== null,
    nextCursor: page.nextCursor,
  };
}

/** Max rows one CSV export holds; narrow the filters for more. */
export const AUDIT_EXPORT_MAX = 50_000;

/** Every matching event (up to AUDIT_EXPORT_MAX), newest first, for the CSV export. */
export async function exportAudit(db: Db, f: AuditQuery) {
  const rows = await db
    .select(columns)
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorId))
    .where(and(...conditions(f)))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(AUDIT_EXPORT_MAX);
  return rows;
}

export const auditCsvHeader = ["id", "at", "actor_id", "actor_email", "action", "target_type", "target_id", "source_ip", "user_agent", "data", "before", "after"] as const;

export function auditCsvRow(r: Awaited<ReturnType<typeof exportAudit>>[number]): unknown[] {
  return [r.id, r.at, r.actorId, r.actorEmail, r.action, r.targetType, r.targetId, r.sourceIp, r.userAgent, r.data, r.before, r.after];
}

/**
 * Distinct actions recorded so far, for the filter's suggestions: one index probe per action
 * (a skip scan over audit_events_action_at_idx) instead of reading the whole log.
 */
export async function auditActions(db: Db): Promise<string[]> {
  const result = (await db.execute(sql`
    with recursive found as (
      (select action from audit_events order by action limit 1)
      union all
      select (select e.action from audit_events e where e.action > found.action order by e.action limit 1) from found where found.action is not null
    )
    select action from found where action is not null`)) as unknown as { rows: { action: string }[] };
  return result.rows.map((r) => r.action);
}
