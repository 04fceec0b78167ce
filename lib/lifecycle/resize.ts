import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, flavors, groups, images, orders, users } from "../db/schema";
import type { Actor } from "../auth/actor";
import { hostKinds, StepError, type DeploySpec, type HostKind } from "../drivers/types";
import { driverFor } from "../pipeline/drivers";
import { conflict, UserError } from "../errors";
import { decideOrder } from "../policy/approval";
import { enforceQuota, orderNeed, quotaResources, type Amounts } from "../policy/quota";
import { settingsOf } from "../policy/groups";
import { requestAction, type ActionHandler } from "./actions";

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
 * resize too, which this version answers with 409 "needs approval" (an approver or admin
 * resizes it) instead of queueing a request.
 */
export function requestResize(db: Db, actor: Actor, environmentId: string, flavorSlug: string) {
  return requestAction(db, actor, environmentId, "resize", {
    prepare: async (tx, env) => {
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
        if (decision.outcome === "hold" && actor.role !== "admin") {
          throw conflict(`Size ${to.name} needs approval (${decision.explanation}); ask an admin to resize it`, "flavor");
        }
      }
      // Only what the new size adds counts against the quotas: the order holds the rest already.
      const before = orderNeed(image, from);
      const after = orderNeed(image, to);
      const need = Object.fromEntries(quotaResources.map((r) => [r, Math.max(0, after[r] - before[r])])) as Amounts;
      await enforceQuota(tx, { group: { id: group.id, name: group.name }, user: { id: owner.id, email: owner.email } }, need);
      return { flavorId: to.id, audit: { from: from.slug, to: to.slug } };
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
export type Day2Support = { snapshots: boolean; resize: boolean };

export type Day2Options = { byKind: Partial<Record<HostKind, Day2Support>>; sizes: SizeChoice[] };

function supportOf(db: Db, kind: HostKind): Day2Support {
  try {
    const driver = driverFor(kind, db);
    return { snapshots: driver.capabilities.snapshots && !!driver.takeSnapshot, resize: driver.capabilities.resize && !!driver.resize };
  } catch {
    return { snapshots: false, resize: false };
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
