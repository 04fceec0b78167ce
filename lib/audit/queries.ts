import { and, desc, eq, gte, ilike, lte, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditEvents, users } from "../db/schema";
import type { AuditQuery } from "./input";
import { isUuid } from "../validation/ids";


/** `%text%` for ILIKE with the user's % and _ taken literally. */
function contains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function conditions(f: Omit<AuditQuery, "page" | "perPage" | "format">): SQL[] {
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
  if (f.action) where.push(f.action.includes(".") && !f.action.endsWith(".") ? eq(auditEvents.action, f.action) : ilike(auditEvents.action, `${f.action.replace(/\.$/, "").replace(/[\\%_]/g, (c) => `\\${c}`)}.%`));
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

/** One page of the audit log, newest first, with the total that matches. */
export async function searchAudit(db: Db, f: AuditQuery) {
  const where = and(...conditions(f));
  const [rows, [{ total }]] = await Promise.all([
    db
      .select(columns)
      .from(auditEvents)
      .leftJoin(users, eq(users.id, auditEvents.actorId))
      .where(where)
      .orderBy(desc(auditEvents.at), desc(auditEvents.id))
      .limit(f.perPage)
      .offset((f.page - 1) * f.perPage),
    db.select({ total: sql<number>`count(*)::int` }).from(auditEvents).leftJoin(users, eq(users.id, auditEvents.actorId)).where(where),
  ]);
  return {
    events: rows.map((r) => ({ ...r, at: r.at.toISOString() })),
    page: f.page,
    perPage: f.perPage,
    total,
    hasMore: f.page * f.perPage < total,
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

/** Distinct actions recorded so far, for the filter's suggestions. */
export async function auditActions(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ action: auditEvents.action }).from(auditEvents).orderBy(auditEvents.action);
  return rows.map((r) => r.action);
}
