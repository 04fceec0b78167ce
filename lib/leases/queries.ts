import { and, asc, desc, eq, inArray, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  courseMachines, courses, environments, extensionRequests, groups, images, leaseEvents, leaseLimits, mails, memberships, orders, users,
} from "../db/schema";
import { conflict, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { env } from "../env";
import { announce } from "../pipeline/events";
import { enqueueMaintenance } from "../jobs/queues";
import { daysLeft, formatLeaseTime as fmt, graceEnd, ruleOnExtension } from "./rules";
import { DAY_MS } from "../time";
import type { ExtendInput } from "./input";
import { approversOf, isApproverFor } from "../policy/approvers";
import { notify } from "../notifications/queries";
import type { Actor } from "../auth/actor";

/** How a lease event's e-mail went: pending, sent or failed (its mail row), skipped, or none. */
type LeaseEmail = (typeof leaseEvents.$inferSelect)["email"];
import { decodeCursor, isCursorTime, pageOf } from "../validation/cursor";
import { isUuid } from "../validation/ids";

const leaseColumns = {
  environmentId: environments.id,
  orderId: orders.id,
  name: orders.name,
  orderStatus: orders.status,
  envState: environments.state,
  startedAt: environments.createdAt,
  expiresAt: environments.expiresAt,
  ownerId: orders.userId,
  owner: users.email,
  ownerName: users.name,
  groupId: orders.groupId,
  group: groups.name,
  imageId: orders.imageId,
  image: images.name,
  /** The lease end to the microsecond, as PostgreSQL writes it: the list's cursor. */
  expiresAtExact: sql<string>`${environments.expiresAt}::text`,
};

export function leaseQuery(db: Db) {
  return db
    .select(leaseColumns)
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .innerJoin(images, eq(images.id, orders.imageId));
}

export type LeaseRow = Awaited<ReturnType<ReturnType<typeof leaseQuery>["where"]>>[number];

type LimitRow = { groupId: string | null; imageId: string | null; maxDays: number; groupName: string | null; imageName: string | null };

function limitRows(db: Db) {
  return db
    .select({ groupId: leaseLimits.groupId, imageId: leaseLimits.imageId, maxDays: leaseLimits.maxDays, groupName: groups.name, imageName: images.name })
    .from(leaseLimits)
    .leftJoin(groups, eq(groups.id, leaseLimits.groupId))
    .leftJoin(images, eq(images.id, leaseLimits.imageId));
}

/** The longest total lease without an approver: the smaller of the group's and the image's limit. */
export async function leaseLimitFor(db: Db, groupId: string, imageId: string): Promise<{ maxDays: number; source: string }> {
  const rows = await limitRows(db).where(or(eq(leaseLimits.groupId, groupId), eq(leaseLimits.imageId, imageId)));
  return limitAmong(rows, groupId, imageId);
}

/** leaseLimitFor among limit rows already read. */
function limitAmong(all: LimitRow[], groupId: string, imageId: string): { maxDays: number; source: string } {
  const rows = all.filter((r) => r.groupId === groupId || r.imageId === imageId);
  let best = { maxDays: env.LEASE_MAX_DAYS, source: "the portal" };
  for (const r of rows) {
    if (r.maxDays < best.maxDays || best.source === "the portal") {
      best = { maxDays: r.maxDays, source: r.groupName ? `group ${r.groupName}` : `image ${r.imageName}` };
    }
  }
  return best;
}

/** Every lease limit with what it applies to. */
export async function listLeaseLimits(db: Db) {
  const rows = await db
    .select({ maxDays: leaseLimits.maxDays, group: groups.slug, image: images.slug })
    .from(leaseLimits)
    .leftJoin(groups, eq(groups.id, leaseLimits.groupId))
    .leftJoin(images, eq(images.id, leaseLimits.imageId));
  return { defaultMaxDays: env.LEASE_MAX_DAYS, limits: rows };
}

/** Sets (or with null removes) a group's or an image's lease limit, by slug (admins). */
export async function setLeaseLimit(db: Db, actor: Actor, input: { group?: string; image?: string; maxDays: number | null }) {
  const [target] = input.group
    ? await db.select({ id: groups.id }).from(groups).where(eq(groups.slug, input.group))
    : await db.select({ id: images.id }).from(images).where(eq(images.slug, input.image!));
  if (!target) throw new UserError("Invalid input", 422, input.group ? { group: [`No group "${input.group}"`] } : { image: [`No image "${input.image}"`] });
  const where = input.group ? eq(leaseLimits.groupId, target.id) : eq(leaseLimits.imageId, target.id);
  await db.transaction(async (tx) => {
    await tx.delete(leaseLimits).where(where);
    if (input.maxDays !== null) {
      await tx.insert(leaseLimits).values({ groupId: input.group ? target.id : null, imageId: input.image ? target.id : null, maxDays: input.maxDays });
    }
  });
  await writeAudit(db, { actorId: actor.id, action: "lease.limit", targetType: input.group ? "group" : "image", targetId: target.id, data: { ...input } });
  return listLeaseLimits(db);
}

async function leaseRow(db: Db, environmentId: string): Promise<LeaseRow> {
  const [row] = await leaseQuery(db).where(eq(environments.id, environmentId));
  if (!row) throw notFound("Environment");
  return row;
}

/** Owner, admin or approver of the order's group; everyone else gets 404 (like orders). */
async function leaseForActor(db: Db, actor: Actor, environmentId: string) {
  const row = await leaseRow(db, environmentId);
  const approver = row.ownerId !== actor.id && (await isApproverFor(db, actor, row.groupId));
  if (actor.role !== "admin" && row.ownerId !== actor.id && !approver) throw notFound("Environment");
  return { row, approver };
}

/** The course a lab machine belongs to: it lives until the course ends, not by a lease of its own. */
async function courseOf(db: Db, orderId: string) {
  const [row] = await db
    .select({ name: courses.name, endsAt: courses.endsAt })
    .from(courseMachines)
    .innerJoin(courses, eq(courses.id, courseMachines.courseId))
    .where(eq(courseMachines.orderId, orderId));
  return row ?? null;
}

/** Extension requests shown per lease, newest first. */
const REQUESTS_PER_LEASE = 10;

/** The lease as the order page and the API show it. */
export async function leaseView(db: Db, row: LeaseRow, now = new Date()) {
  const [view] = await leaseViews(db, [row], now);
  return view;
}

/**
 * Leases as the order page and the API show them, for many rows in a fixed number of
 * statements (courses, lease events, extension requests, lease limits: one each).
 */
export async function leaseViews(db: Db, leaseRows: LeaseRow[], now = new Date()) {
  if (leaseRows.length === 0) return [];
  const envIds = leaseRows.map((r) => r.environmentId);
  const orderIds = leaseRows.map((r) => r.orderId);
  // One after the other: inside a transaction there is one connection.
  const courseRows = await db
    .select({ orderId: courseMachines.orderId, name: courses.name, endsAt: courses.endsAt })
    .from(courseMachines)
    .innerJoin(courses, eq(courses.id, courseMachines.courseId))
    .where(inArray(courseMachines.orderId, orderIds));
  // An event's e-mail went through the outbox: its mail row says how far it got.
  const events = await db
    .select({ environmentId: leaseEvents.environmentId, kind: leaseEvents.kind, at: leaseEvents.at, leaseEnd: leaseEvents.leaseEnd, email: sql<LeaseEmail>`coalesce(${mails.status}, ${leaseEvents.email})` })
    .from(leaseEvents)
    .leftJoin(mails, eq(mails.id, leaseEvents.mailId))
    .where(inArray(leaseEvents.environmentId, envIds))
    .orderBy(asc(leaseEvents.at));
  const ranked = db
    .select({
      id: extensionRequests.id,
      environmentId: extensionRequests.environmentId,
      days: extensionRequests.days,
      reason: extensionRequests.reason,
      policy: extensionRequests.policy,
      status: extensionRequests.status,
      decisionReason: extensionRequests.decisionReason,
      createdAt: extensionRequests.createdAt,
      decidedAt: extensionRequests.decidedAt,
      requester: sql<string>`${users.email}`.as("requester"),
      decider: sql<string | null>`(select email from users d where d.id = ${extensionRequests.decidedBy})`.as("decider"),
      rn: sql<number>`row_number() over (partition by ${extensionRequests.environmentId} order by ${extensionRequests.createdAt} desc)`.as("rn"),
    })
    .from(extensionRequests)
    .innerJoin(users, eq(users.id, extensionRequests.requestedBy))
    .where(inArray(extensionRequests.environmentId, envIds))
    .as("ranked");
  const requests = await db.select().from(ranked).where(sql`${ranked.rn} <= ${REQUESTS_PER_LEASE}`).orderBy(desc(ranked.createdAt));
  // Few rows: read once, not per lease.
  const limits = await limitRows(db);
  return leaseRows.map((original) => {
    const course = courseRows.find((c) => c.orderId === original.orderId) ?? null;
    const row = course ? { ...original, expiresAt: course.endsAt } : original;
    const live = row.orderStatus === "ready" || row.orderStatus === "expiring";
    return {
      environmentId: row.environmentId,
      orderId: row.orderId,
      name: row.name,
      owner: row.owner,
      group: row.group,
      status: row.orderStatus,
      environmentState: row.envState,
      startedAt: row.startedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      daysLeft: live ? daysLeft(row.expiresAt, now) : 0,
      /** While expiring: when the stopped environment is destroyed unless extended. */
      destroyAt: row.orderStatus === "expiring" ? graceEnd(row.expiresAt, env.LEASE_GRACE_DAYS).toISOString() : null,
      graceDays: env.LEASE_GRACE_DAYS,
      limit: limitAmong(limits, row.groupId, row.imageId),
      /** Lab machines end with their course: set by the teacher, not extended one by one. */
      course: course ? { name: course.name, endsAt: course.endsAt.toISOString() } : null,
      extendable: live && !course,
      events: events
        .filter((e) => e.environmentId === row.environmentId)
        .map((e) => ({ kind: e.kind, at: e.at.toISOString(), leaseEnd: e.leaseEnd.toISOString(), email: e.email })),
      requests: requests
        .filter((r) => r.environmentId === row.environmentId)
        .map((r) => ({
          id: r.id,
          days: r.days,
          reason: r.reason,
          policy: r.policy,
          status: r.status,
          requestedBy: r.requester,
          decidedBy: r.decider,
          decisionReason: r.decisionReason,
          createdAt: r.createdAt.toISOString(),
          decidedAt: r.decidedAt?.toISOString() ?? null,
        })),
    };
  });
}

export type LeaseView = Awaited<ReturnType<typeof leaseViews>>[number];

/** The lease of an order's environment, or null before it was placed. */
export async function leaseForOrder(db: Db, orderId: string, now = new Date()): Promise<LeaseView | null> {
  const [row] = await leaseQuery(db).where(eq(environments.orderId, orderId));
  return row ? leaseView(db, row, now) : null;
}

/** Leases listed per page by default, and at most. */
export const LEASES_PER_PAGE = 50;
export const LEASES_MAX_PER_PAGE = 200;

/**
 * Leases of delivered environments, soonest end first: mine, or every one for admins (`all`),
 * a page of `limit` after `cursor` (from the previous page's nextCursor). Five statements
 * whatever the page's size.
 */
export async function listLeases(
  db: Db,
  actor: Actor,
  scope: "mine" | "all",
  opts: { limit?: number; cursor?: string } = {},
  now = new Date(),
) {
  if (scope === "all" && actor.role !== "admin") throw new UserError("Only admins can list every lease", 403);
  const limit = Math.min(Math.max(1, opts.limit ?? LEASES_PER_PAGE), LEASES_MAX_PER_PAGE);
  const after = opts.cursor ? decodeCursor(opts.cursor, 2) : null;
  if (opts.cursor && (!after || !isCursorTime(after[0]) || !isUuid(after[1]))) {
    throw new UserError("Invalid input", 422, { cursor: ["Not a cursor from this list: start again without one"] });
  }
  // A live lease's environment is never deleted: the condition lets the partial index on
  // (expires_at, id) give the rows in order.
  const where = [inArray(orders.status, ["ready", "expiring"]), ne(environments.state, "deleted")];
  if (scope === "mine") where.push(eq(orders.userId, actor.id));
  if (after) where.push(sql`(${environments.expiresAt}, ${environments.id}) > (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  const rows = await leaseQuery(db)
    .where(and(...where))
    .orderBy(asc(environments.expiresAt), asc(environments.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit, (r) => [r.expiresAtExact, r.environmentId]);
  return { leases: await leaseViews(db, page.rows, now), nextCursor: page.nextCursor };
}

/** Moves the lease end; an expiring (stopped) environment turns ready and is started again. */
async function applyExtension(db: Db, row: LeaseRow, newEnd: Date, actor: Actor, why: string) {
  const wasExpiring = await db.transaction(async (tx) => {
    const [order] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, row.orderId)).for("update");
    if (order.status !== "ready" && order.status !== "expiring") throw conflict(`The environment is ${order.status}; its lease can no longer be extended`);
    await tx.update(environments).set({ expiresAt: newEnd }).where(eq(environments.id, row.environmentId));
    await tx
      .update(orders)
      .set({ status: "ready", reason: `lease extended to ${fmt(newEnd)} by ${actor.email}`, updatedAt: new Date() })
      .where(eq(orders.id, row.orderId));
    return order.status === "expiring";
  });
  await writeAudit(db, {
    actorId: actor.id, action: "lease.extend", targetType: "environment", targetId: row.environmentId,
    data: { order: row.orderId, from: row.expiresAt.toISOString(), to: newEnd.toISOString(), why },
  });
  await announce(row.orderId, "lease");
  // A stopped guest starts again at the next sweep; ask for one now rather than in 10 minutes.
  if (wasExpiring) await enqueueMaintenance({ task: "leases" }).catch((err) => console.error("[leases] could not enqueue a sweep:", (err as Error).message));
  return wasExpiring;
}

export async function extendLease(db: Db, actor: Actor, environmentId: string, input: ExtendInput, now = new Date()) {
  const { row, approver } = await leaseForActor(db, actor, environmentId);
  if (row.orderStatus !== "ready" && row.orderStatus !== "expiring") {
    throw conflict(`The environment is ${row.orderStatus.replace("_", " ")}; only a delivered environment's lease can be extended`);
  }
  const course = await courseOf(db, row.orderId);
  if (course) throw conflict(`This is a lab machine of the course ${course.name}: it is kept until the course ends (${fmt(course.endsAt)}) and cannot be extended on its own`, "days");
  const [pending] = await db
    .select({ id: extensionRequests.id })
    .from(extensionRequests)
    .where(and(eq(extensionRequests.environmentId, environmentId), eq(extensionRequests.status, "pending")));
  if (pending) throw conflict("An extension request for this environment is already waiting for an approver", "days");
  const limit = await leaseLimitFor(db, row.groupId, row.imageId);
  const ruling = ruleOnExtension({
    startedAt: row.startedAt,
    currentEnd: row.expiresAt,
    days: input.days,
    maxDays: limit.maxDays,
    limitSource: limit.source,
    now,
    trusted: actor.role === "admin" ? "an admin" : approver ? `an approver of group ${row.group}` : undefined,
  });
  if (ruling.outcome === "grant") {
    const restarted = await applyExtension(db, row, ruling.newEnd, actor, ruling.reason);
    return { outcome: "extended" as const, expiresAt: ruling.newEnd.toISOString(), daysLeft: daysLeft(ruling.newEnd, now), reason: ruling.reason, restarting: restarted };
  }
  const [request] = await db
    .insert(extensionRequests)
    .values({ environmentId, orderId: row.orderId, requestedBy: actor.id, days: input.days, reason: input.reason || null, policy: ruling.reason })
    .returning();
  await writeAudit(db, {
    actorId: actor.id, action: "lease.extension_request", targetType: "environment", targetId: environmentId,
    data: { order: row.orderId, days: input.days, reason: input.reason, policy: ruling.reason },
  });
  const approvers = await approversOf(db, row.groupId);
  await notify(
    db,
    approvers.map((userId) => ({
      userId,
      kind: "lease.extension_request",
      title: `${actor.email} asks to extend ${row.name} by ${input.days} days`,
      body: `${ruling.reason}.${input.reason ? ` Reason given: ${input.reason}` : ""}`,
      link: `/orders/${row.orderId}`,
    })),
  );
  await announce(row.orderId, "lease");
  return { outcome: "requested" as const, requestId: request.id, reason: ruling.reason, expiresAt: row.expiresAt.toISOString() };
}

/** Extension requests one view lists at most, oldest first (the page says so when cut). */
export const EXTENSION_REQUESTS_MAX = 200;

/**
 * Pending extension requests the actor may decide (approvers of the group, admins), oldest
 * first, at most `limit` (EXTENSION_REQUESTS_MAX; the oldest wait longest). One statement.
 */
export async function pendingExtensionRequests(db: Db, actor: Actor, limit = EXTENSION_REQUESTS_MAX) {
  const where = [eq(extensionRequests.status, "pending")];
  if (actor.role !== "admin") {
    where.push(
      inArray(
        orders.groupId,
        db.select({ groupId: memberships.groupId }).from(memberships).where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver"))),
      ),
    );
  }
  const rows = await db
    .select({ request: extensionRequests, name: orders.name, requester: users.email, expiresAt: environments.expiresAt })
    .from(extensionRequests)
    .innerJoin(orders, eq(orders.id, extensionRequests.orderId))
    .innerJoin(environments, eq(environments.id, extensionRequests.environmentId))
    .innerJoin(users, eq(users.id, extensionRequests.requestedBy))
    .where(and(...where))
    .orderBy(asc(extensionRequests.createdAt), asc(extensionRequests.id))
    .limit(limit);
  return rows.map((r) => ({
    id: r.request.id, orderId: r.request.orderId, environmentId: r.request.environmentId, name: r.name, requestedBy: r.requester,
    days: r.request.days, reason: r.request.reason, policy: r.request.policy, expiresAt: r.expiresAt.toISOString(), createdAt: r.request.createdAt.toISOString(),
  }));
}

/** An approver accepts (the lease is extended by the requested days) or rejects with a reason. */
export async function decideExtension(db: Db, actor: Actor, requestId: string, approve: boolean, reason: string | undefined, now = new Date()) {
  const [request] = await db.select().from(extensionRequests).where(eq(extensionRequests.id, requestId));
  if (!request) throw notFound("Extension request");
  const row = await leaseRow(db, request.environmentId);
  if (!(await isApproverFor(db, actor, row.groupId))) {
    if (row.ownerId === actor.id) throw new UserError("Only an approver of the group can decide on your extension request", 403);
    throw notFound("Extension request");
  }
  const decided = await db
    .update(extensionRequests)
    .set({ status: approve ? "approved" : "rejected", decidedBy: actor.id, decisionReason: reason || null, decidedAt: now })
    .where(and(eq(extensionRequests.id, requestId), eq(extensionRequests.status, "pending")))
    .returning();
  if (decided.length === 0) throw conflict(`The request was already ${request.status}`);
  let expiresAt = row.expiresAt;
  if (approve) {
    expiresAt = new Date(Math.max(row.expiresAt.getTime(), now.getTime()) + request.days * DAY_MS);
    try {
      await applyExtension(db, row, expiresAt, actor, `approved request ${requestId}`);
    } catch (err) {
      // The environment went away meanwhile: the request cannot be granted after all.
      await db.update(extensionRequests).set({ status: "rejected", decisionReason: (err as Error).message }).where(eq(extensionRequests.id, requestId));
      throw err;
    }
  }
  await writeAudit(db, {
    actorId: actor.id, action: approve ? "lease.extension_approve" : "lease.extension_reject", targetType: "extension_request", targetId: requestId,
    data: { environment: row.environmentId, order: row.orderId, days: request.days, reason },
  });
  await notify(db, {
    userId: request.requestedBy,
    kind: approve ? "lease.extension_approved" : "lease.extension_rejected",
    title: approve ? `Extension of ${row.name} approved: the lease now ends ${fmt(expiresAt)}` : `Extension of ${row.name} refused`,
    body: `${actor.email}${reason ? `: ${reason}` : approve ? " approved it" : ""}`,
    link: `/orders/${row.orderId}`,
  });
  await announce(row.orderId, "lease");
  return { id: requestId, status: decided[0].status, expiresAt: expiresAt.toISOString(), reason: reason ?? null };
}
