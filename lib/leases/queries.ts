import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  courseMachines, courses, environments, extensionRequests, groups, images, leaseEvents, leaseLimits, memberships, orders, users,
} from "../db/schema";
import { conflict, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { env } from "../env";
import { announce } from "../pipeline/events";
import { enqueueMaintenance } from "../jobs/queues";
import { daysLeft, formatLeaseTime as fmt, graceEnd, ruleOnExtension } from "./rules";
import { DAY_MS } from "../time";
import type { ExtendInput } from "./input";
import { isApproverFor } from "../policy/approvers";
import { notify } from "../notifications/queries";
import type { Actor } from "../auth/actor";

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

/** The longest total lease without an approver: the smaller of the group's and the image's limit. */
export async function leaseLimitFor(db: Db, groupId: string, imageId: string): Promise<{ maxDays: number; source: string }> {
  const rows = await db
    .select({ maxDays: leaseLimits.maxDays, groupName: groups.name, imageName: images.name })
    .from(leaseLimits)
    .leftJoin(groups, eq(groups.id, leaseLimits.groupId))
    .leftJoin(images, eq(images.id, leaseLimits.imageId))
    .where(or(eq(leaseLimits.groupId, groupId), eq(leaseLimits.imageId, imageId)));
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

/** The lease as the order page and the API show it. */
export async function leaseView(db: Db, row: LeaseRow, now = new Date()) {
  const course = await courseOf(db, row.orderId);
  if (course) row = { ...row, expiresAt: course.endsAt };
  const [events, requests] = await Promise.all([
    db.select().from(leaseEvents).where(eq(leaseEvents.environmentId, row.environmentId)).orderBy(asc(leaseEvents.at)),
    db
      .select({ request: extensionRequests, requester: users.email, decider: sql<string | null>`(select email from users d where d.id = ${extensionRequests.decidedBy})` })
      .from(extensionRequests)
      .innerJoin(users, eq(users.id, extensionRequests.requestedBy))
      .where(eq(extensionRequests.environmentId, row.environmentId))
      .orderBy(desc(extensionRequests.createdAt))
      .limit(10),
  ]);
  const limit = await leaseLimitFor(db, row.groupId, row.imageId);
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
    limit,
    /** Lab machines end with their course: set by the teacher, not extended one by one. */
    course: course ? { name: course.name, endsAt: course.endsAt.toISOString() } : null,
    extendable: live && !course,
    events: events.map((e) => ({ kind: e.kind, at: e.at.toISOString(), leaseEnd: e.leaseEnd.toISOString(), email: e.email })),
    requests: requests.map(({ request: r, requester, decider }) => ({
      id: r.id,
      days: r.days,
      reason: r.reason,
      policy: r.policy,
      status: r.status,
      requestedBy: requester,
      decidedBy: decider,
      decisionReason: r.decisionReason,
      createdAt: r.createdAt.toISOString(),
      decidedAt: r.decidedAt?.toISOString() ?? null,
    })),
  };
}

export type LeaseView = Awaited<ReturnType<typeof leaseView>>;

/** The lease of an order's environment, or null before it was placed. */
export async function leaseForOrder(db: Db, orderId: string, now = new Date()): Promise<LeaseView | null> {
  const [row] = await leaseQuery(db).where(eq(environments.orderId, orderId));
  return row ? leaseView(db, row, now) : null;
}

/** Leases of delivered environments: mine, or every one for admins (`all`). */
export async function listLeases(db: Db, actor: Actor, scope: "mine" | "all", now = new Date()) {
  if (scope === "all" && actor.role !== "admin") throw new UserError("Only admins can list every lease", 403);
  const live = inArray(orders.status, ["ready", "expiring"]);
  const rows = await leaseQuery(db)
    .where(scope === "all" ? live : and(live, eq(orders.userId, actor.id)))
    .orderBy(asc(environments.expiresAt));
  return Promise.all(rows.map((r) => leaseView(db, r, now)));
}

async function approversOf(db: Db, groupId: string): Promise<string[]> {
  const rows = await db
    .select({ id: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.groupId, groupId), eq(memberships.role, "approver")));
  if (rows.length) return rows.map((r) => r.id);
  return (await db.select({ id: users.id }).from(users).where(eq(users.role, "admin"))).map((r) => r.id);
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

/** Pending extension requests the actor may decide (approvers of the group, admins). */
export async function pendingExtensionRequests(db: Db, actor: Actor) {
  const rows = await db
    .select({ request: extensionRequests, name: orders.name, groupId: orders.groupId, requester: users.email, expiresAt: environments.expiresAt })
    .from(extensionRequests)
    .innerJoin(orders, eq(orders.id, extensionRequests.orderId))
    .innerJoin(environments, eq(environments.id, extensionRequests.environmentId))
    .innerJoin(users, eq(users.id, extensionRequests.requestedBy))
    .where(eq(extensionRequests.status, "pending"))
    .orderBy(asc(extensionRequests.createdAt));
  const mine = [];
  for (const r of rows) {
    if (await isApproverFor(db, actor, r.groupId)) {
      mine.push({
        id: r.request.id, orderId: r.request.orderId, environmentId: r.request.environmentId, name: r.name, requestedBy: r.requester,
        days: r.request.days, reason: r.request.reason, policy: r.request.policy, expiresAt: r.expiresAt.toISOString(), createdAt: r.request.createdAt.toISOString(),
      });
    }
  }
  return mine;
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
