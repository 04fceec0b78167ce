import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, flavors, groups, images, memberships, orders, users } from "../db/schema";
import type { Actor } from "../auth/actor";
import { hostKinds, StepError, type DeploySpec, type HostKind } from "../drivers/types";
import { driverFor } from "../pipeline/drivers";
import { conflict, notFound, UserError } from "../errors";
import { decideOrder } from "../policy/approval";
import { enforceQuota, orderNeed, quotaResources, type Amounts } from "../policy/quota";
import { settingsOf } from "../policy/groups";
import { dispatchAction, refuseWhileBusy, requestAction, type ActionHandler } from "./actions";
import { isApproverFor } from "../policy/approvers";
import { isUuid } from "../validation/ids";
import { writeAudit } from "../audit/write";
import { announce } from "../pipeline/events";

type Flavor = typeof flavors.$inferSelect;

function specFlavor(f: Flavor): DeploySpec["flavor"] {
  return { vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.diskGb, cpuCap: f.cpuCap, memoryCapMb: f.memoryCapMb };
}

/** Grows resources: more vCPUs, memory or disk than now. */
function grows(from: Flavor, to: Flavor): boolean {
  return to.vcpus > from.vcpus || to.memoryMb > from.memoryMb || to.diskGb > from.diskGb;
}

/**
 * Changes a delivered environment to another catalog size: the guest is stopped, given the
 * new vCPUs, memory and caps (the disk only grows) and started again. The group must offer
 * the size, quotas must hold the difference, and policy decides as for a new order: a rule
 * that refuses refuses the resize; one that holds the order for approval holds a growing
 * resize requested by its owner for an approver of the group (status `held`, listed on
 * /approvals; decideResize queues or rejects it). Admins' resizes are not held.
 */
export function requestResize(db: Db, actor: Actor, environmentId: string, flavorSlug: string) {
  return requestAction(db, actor, environmentId, "resize", {
    prepare: async (tx, env) => {
      let held: string | undefined;
      const [to] = await tx.select().from(flavors).where(eq(flavors.slug, flavorSlug));
      if (!to || !to.active) throw new UserError("Choose a size from the catalog", 422, { flavor: [`There is no size "${flavorSlug}" in the catalog`] });
      const [row] = await tx
        .select({ order: orders, from: flavors, image: images, group: groups, owner: users })
        .from(orders)
        .innerJoin(flavors, eq(flavors.id, orders.flavorId))
        .innerJoin(images, eq(images.id, orders.imageId))
        .innerJoin(groups, eq(groups.id, orders.groupId))
        .innerJoin(users, eq(users.id, orders.userId))
        .where(eq(orders.id, env.orderId));
      const { order, from, image, group, owner } = row;
      if (to.id === from.id) throw conflict(`The environment already has size ${from.name}`, "flavor");
      if (to.diskGb < from.diskGb) {
        throw new UserError(`The disk only grows: ${to.name} has ${to.diskGb} GB, the environment has ${from.diskGb} GB`, 422, { flavor: ["The disk only grows: choose a size with at least the current disk"] });
      }
      const settings = await settingsOf(tx, group.id);
      if (settings.flavorIds.length && !settings.flavorIds.includes(to.id)) {
        throw new UserError(`Size ${to.name} is not offered to group ${group.name}`, 422, { flavor: [`Size ${to.name} is not offered to group ${group.name}`] });
      }
      if (grows(from, to)) {
        const decision = await decideOrder(tx, { role: owner.role, group, image, flavor: to, purpose: order.purpose, leaseDays: order.leaseDays });
        if (decision.outcome === "refuse") throw new UserError(`Policy refuses size ${to.name}: ${decision.explanation}`, 403);
        if (decision.outcome === "hold" && actor.role !== "admin") held = `Size ${to.name} needs approval: ${decision.explanation}`;
      }
      const [waiting] = await tx
        .select({ id: environmentActions.id })
        .from(environmentActions)
        .where(and(eq(environmentActions.environmentId, env.id), eq(environmentActions.action, "resize"), eq(environmentActions.status, "held")));
      if (waiting) throw conflict("A resize of this environment is waiting for approval; wait for the decision", "flavor");
      // Only what the new size adds counts against the quotas: the order holds the rest already.
      const before = orderNeed(image, from);
      const after = orderNeed(image, to);
      const need = Object.fromEntries(quotaResources.map((r) => [r, Math.max(0, after[r] - before[r])])) as Amounts;
      await enforceQuota(tx, { group: { id: group.id, name: group.name }, user: { id: owner.id, email: owner.email } }, need);
      return { flavorId: to.id, audit: { from: from.slug, to: to.slug }, held };
    },
  });
}

/**
 * The driver stops, changes and starts the guest; then the order and the environment carry
 * the new size (quotas and host usage count it from then on).
 */
export const resizeEnvironment: ActionHandler = async (db, ctx, io) => {
  if (!ctx.action.flavorId) throw new StepError("the resize names no size");
  const [to] = await db.select().from(flavors).where(eq(flavors.id, ctx.action.flavorId));
  if (!to) throw new StepError("the size is gone from the catalog");
  const from = ctx.spec.flavor;
  await ctx.driver.resize!({ ...ctx.spec, flavor: specFlavor(to) }, from, io);
  await db.transaction(async (tx) => {
    await tx.update(orders).set({ flavorId: to.id, updatedAt: new Date() }).where(eq(orders.id, ctx.spec.orderId));
    await tx.update(environments).set({ vcpus: to.vcpus, memoryMb: to.memoryMb, diskGb: to.diskGb, state: "running" }).where(eq(environments.id, ctx.action.environmentId));
  });
  return { from: { vcpus: from.vcpus, memoryMb: from.memoryMb, diskGb: from.diskGb }, to: { flavor: to.slug, vcpus: to.vcpus, memoryMb: to.memoryMb, diskGb: to.diskGb } };
};

/** A size the order page offers for a resize. */
export type SizeChoice = { slug: string; name: string; vcpus: number; memoryMb: number; diskGb: number };

/** What a host kind's driver can do after delivery. */
/** keepData: a reinstall can keep the data filesystem (/data). */
export type Day2Support = { snapshots: boolean; resize: boolean; keepData: boolean };

export type Day2Options = { byKind: Partial<Record<HostKind, Day2Support>>; sizes: SizeChoice[] };

function supportOf(db: Db, kind: HostKind): Day2Support {
  try {
    const driver = driverFor(kind, db);
    return { snapshots: driver.capabilities.snapshots && !!driver.takeSnapshot, resize: driver.capabilities.resize && !!driver.resize, keepData: driver.capabilities.keepData };
  } catch {
    return { snapshots: false, resize: false, keepData: false };
  }
}

/**
 * What the order page offers after delivery: per host kind (the environment may be placed
 * only after the page loaded) whether it takes snapshots and resizes, and the sizes offered
 * to the order's group (the page leaves out the current size and smaller disks, as the
 * order's size changes while it is open).
 */
export async function day2Options(db: Db, orderId: string): Promise<Day2Options> {
  const byKind = Object.fromEntries(hostKinds.map((k) => [k, supportOf(db, k)]));
  const [row] = await db.select({ groupId: orders.groupId }).from(orders).where(eq(orders.id, orderId));
  const settings = await settingsOf(db, row.groupId);
  const all = await db.select().from(flavors).where(eq(flavors.active, true)).orderBy(asc(flavors.vcpus), asc(flavors.memoryMb), asc(flavors.diskGb));
  const sizes = all
    .filter((f) => !settings.flavorIds.length || settings.flavorIds.includes(f.id))
    .map((f) => ({ slug: f.slug, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.diskGb }));
  return { byKind, sizes };
}

/** A resize waiting for an approver, as /approvals lists it. */
export type HeldResize = { id: string; environmentId: string; orderId: string; name: string; requestedBy: string; from: string; to: string; why: string; createdAt: string };

/** Held resizes in the groups the actor approves for (all for admins), oldest first, at most `limit`. */
export async function heldResizes(db: Db, actor: Actor, limit = 200): Promise<HeldResize[]> {
  const where = [eq(environmentActions.action, "resize"), eq(environmentActions.status, "held")];
  if (actor.role !== "admin") {
    where.push(inArray(orders.groupId, db.select({ groupId: memberships.groupId }).from(memberships).where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver")))));
  }
  const rows = await db
    .select({ a: environmentActions, orderId: orders.id, name: orders.name, requester: users.email, from: flavors.name })
    .from(environmentActions)
    .innerJoin(environments, eq(environments.id, environmentActions.environmentId))
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .innerJoin(users, eq(users.id, environmentActions.requestedBy))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .where(and(...where))
    .orderBy(asc(environmentActions.createdAt))
    .limit(limit);
  const names = new Map((await db.select({ id: flavors.id, name: flavors.name }).from(flavors)).map((f) => [f.id, f.name]));
  return rows.map((r) => ({
    id: r.a.id, environmentId: r.a.environmentId, orderId: r.orderId, name: r.name, requestedBy: r.requester,
    from: r.from, to: names.get(r.a.flavorId ?? "") ?? "?", why: r.a.note ?? "", createdAt: r.a.createdAt.toISOString(),
  }));
}

/**
 * An approver of the order's group (or an admin) accepts a held resize, which is queued
 * then (409 while another action of the environment runs), or rejects it with a reason the
 * owner reads on the order page. Quotas were checked when it was asked for.
 */
export async function decideResize(db: Db, actor: Actor, environmentId: string, actionId: string, approve: boolean, reason?: string) {
  if (!isUuid(actionId)) throw notFound("Resize request");
  const [row] = await db
    .select({ a: environmentActions, groupId: orders.groupId, orderId: orders.id, ownerId: orders.userId })
    .from(environmentActions)
    .innerJoin(environments, eq(environments.id, environmentActions.environmentId))
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .where(and(eq(environmentActions.id, actionId), eq(environmentActions.environmentId, environmentId), eq(environmentActions.action, "resize")));
  if (!row || !(await isApproverFor(db, actor, row.groupId))) {
    if (row && row.ownerId === actor.id) throw new UserError("Only an approver of the group can decide on your resize", 403);
    throw notFound("Resize request");
  }
  const decided = await db.transaction(async (tx) => {
    const [env] = await tx.select().from(environments).where(eq(environments.id, row.a.environmentId)).for("update");
    const [current] = await tx.select().from(environmentActions).where(eq(environmentActions.id, actionId));
    if (current.status !== "held") throw conflict(`The resize was already decided (${current.status})`);
    if (approve) {
      await refuseWhileBusy(tx, env.id);
      if (env.state !== "running" && env.state !== "stopped") throw conflict(`The environment is ${env.state}; wait until it is running or stopped`);
    }
    const [updated] = await tx
      .update(environmentActions)
      .set(approve ? { status: "queued", note: `approved by ${actor.email}` } : { status: "failed", error: `Rejected by ${actor.email}${reason ? `: ${reason}` : ""}`, finishedAt: new Date() })
      .where(eq(environmentActions.id, actionId))
      .returning();
    return updated;
  });
  await writeAudit(db, { actorId: actor.id, action: approve ? "environment.resize_approve" : "environment.resize_reject", targetType: "environment", targetId: row.a.environmentId, data: { action: actionId, ...(reason ? { reason } : {}) } });
  await announce(row.orderId, "action");
  if (approve) await dispatchAction(actionId);
  return { id: decided.id, action: decided.action, status: decided.status, environmentId: decided.environmentId, snapshotId: decided.snapshotId };
}
