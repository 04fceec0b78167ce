import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { serviceIpsOfEnvironment } from "../net/service-ips";
import type { Db } from "../db/client";
import {
  environments, flavors, groups, hosts, images, imageVersions, ipAllocations, memberships, networks, orders,
  orderUploads, pipelineRuns, pipelineSteps, policyDecisions, stepLogs, users, type OrderStatus, type Role,
} from "../db/schema";
import { alias } from "drizzle-orm/pg-core";
import { checkRecipeOrder } from "../recipes/order-check";
import { accountsView, orderRecipeView, settingsView } from "../recipes/view";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { decideOrder, recordDecision } from "../policy/approval";
import { enforceQuota, orderNeed } from "../policy/quota";
import { preflight } from "../policy/preflight";
import { isApproverFor } from "../policy/approvers";
import { groupsOf, settingsOf } from "../policy/groups";
import { writeAudit } from "../audit/write";
import { announce } from "../pipeline/events";
import { createRun, dispatchRun, latestRun, resetFailedRun } from "../pipeline/runs";
import { startTeardown } from "../pipeline/engine";
import { isCancellable, terminalStatuses } from "../pipeline/states";
import { stepLabel } from "../pipeline/steps";
import { DEFAULT_LEASE_DAYS, type OrderInput } from "./input";
import { catalogChoiceErrors, defaultProductionNetwork, findFlavor, findImage, findNetwork } from "../catalog/queries";
import { lockForTransaction } from "../db/locks";
import { migrationsOf } from "./migration-history";
import { powerActionsOf } from "./power-history";
import { day2ActionsOf, snapshotsOf } from "./day2-history";
import { failedHoldOf } from "./failed-hold";
import { connectionOf, databaseEndpoint } from "./connection";
import { leaseForOrder } from "../leases/queries";
import { decodeCursor, isCursorTime, pageOf } from "../validation/cursor";
import { isUuid } from "../validation/ids";
import { recordOrderEvent } from "../notifications/order-events";
import { dispatchMail } from "../mail/outbox";

import type { Actor } from "../auth/actor";

/** Groups in which the actor may approve orders. */
async function approverGroupIds(db: Db, actor: Actor): Promise<string[]> {
  const rows = await db
    .select({ groupId: memberships.groupId })
    .from(memberships)
    .where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver")));
  return rows.map((r) => r.groupId);
}

export async function createOrder(db: Db, actor: Actor, input: OrderInput) {
  const [image, flavor, named, myGroups] = await Promise.all([
    findImage(db, input.image),
    findFlavor(db, input.flavor),
    input.network ? findNetwork(db, input.network) : null,
    groupsOf(db, actor.id),
  ]);
  // Course groups hand out lab machines through the course page only; catalog orders go to
  // the user's pools.
  const pools = myGroups.filter((g) => g.kind !== "course");
  const chosen = input.group ? myGroups.find((g) => g.slug === input.group || g.id === input.group) : undefined;
  if (chosen?.kind === "course") {
    const why = `${chosen.name} is a course: get its lab machine on the Courses page`;
    throw new UserError(why, 422, { group: [why] });
  }
  const group = input.group ? chosen : pools[0];
  // What the group may use: an empty list means the whole catalog.
  const settings = group ? await settingsOf(db, group.id) : null;
  // Without a network named, the oldest production network the group may use.
  const network = input.network ? named : await defaultProductionNetwork(db, settings?.networkIds);
  const fields = catalogChoiceErrors(input, { image, flavor, network });
  if (input.group && !group) fields.group = [`You are not a member of group "${input.group}"`];
  if (!image || !flavor || !network || fields.network || fields.group) throw new UserError("The order has invalid fields", 422, fields);

  if (!group || !settings) throw new UserError("You are not in any group yet: ask an admin to add you to one", 409);
  if (settings.imageIds.length && !settings.imageIds.includes(image.id)) fields.image = [`${image.name} is not offered to group ${group.name}`];
  if (settings.flavorIds.length && !settings.flavorIds.includes(flavor.id)) fields.flavor = [`Size ${flavor.name} is not offered to group ${group.name}`];
  if (settings.networkIds.length && !settings.networkIds.includes(network.id)) fields.network = [`${network.name} is not one of group ${group.name}'s networks`];
  if (Object.keys(fields).length) throw new UserError("The order has invalid fields", 422, fields);
  // The image's recipe: its parameters, uploads and allowed settings; accounts get their uids.
  const extra = checkRecipeOrder(image.recipeSlug, input);
  if (Object.keys(extra.errors).length) throw new UserError("The order has invalid fields", 422, extra.errors);

  const purpose = input.purpose ?? image.purpose;
  const leaseDays = input.leaseDays ?? DEFAULT_LEASE_DAYS;
  const request = { image: image.slug, flavor: flavor.slug, network: network.slug, group: group.slug, name: input.name, purpose, leaseDays };
  const decision = await decideOrder(db, { role: actor.role, group, image, flavor, purpose, leaseDays });
  if (decision.outcome === "refuse") {
    await recordDecision(db, { ...decision, orderId: null, userId: actor.id, groupId: group.id, request });
    await writeAudit(db, { actorId: actor.id, action: "order.refuse", targetType: "group", targetId: group.id, data: { ...request, rule: decision.ruleKey } });
    throw new UserError(decision.explanation, 403);
  }

  let result;
  try {
    result = await db.transaction(async (tx) => {
      // Orders for the same name wait for each other here, so two at once cannot both pass the
      // check below (a unique index cannot say "among live orders"). Released at commit.
      await lockForTransaction(tx, "orderName", input.name);
      const [clash] = await tx
        .select({ id: orders.id })
        .from(orders)
        .where(and(eq(orders.name, input.name), sql`${orders.status} not in ('rejected', 'cancelled', 'retired')`));
      if (clash) throw new UserError(`The name ${input.name} is already used by another environment`, 409, { name: ["Name already in use"] });
      // Counted under the group's and the user's quota locks, held to commit.
      await enforceQuota(tx, { group, user: { id: actor.id, email: actor.email } }, orderNeed(image, flavor));
      const [order] = await tx
        .insert(orders)
        .values({
          userId: actor.id,
          groupId: group.id,
          imageId: image.id,
          flavorId: flavor.id,
          networkId: network.id,
          name: input.name,
          purpose,
          leaseDays,
          recipe: extra.recipe,
          accounts: extra.accounts,
          settings: extra.settings,
          status: decision.outcome === "approve" ? "queued" : "pending_approval",
          reason: decision.explanation,
          // Delivery clock: policy decides at once; the approval wait is zero.
          ...(decision.outcome === "approve" ? { decidedAt: sql`now()`, queuedAt: sql`now()` } : {}),
        })
        .returning();
      await recordDecision(tx, { ...decision, orderId: order.id, userId: actor.id, groupId: group.id, request });
      if (extra.uploads.length) await tx.insert(orderUploads).values(extra.uploads.map((u) => ({ orderId: order.id, ...u })));
      const run = decision.outcome === "approve" ? await createRun(tx, order.id, "provision") : null;
      // A held order: its owner and whoever may decide are told, in this commit.
      const mailIds = run ? [] : await recordOrderEvent(tx, { kind: "order.held", orderId: order.id });
      await writeAudit(tx, {
        actorId: actor.id, action: "order.create", targetType: "order", targetId: order.id,
        data: {
          image: image.slug, flavor: flavor.slug, network: network.slug, group: group.slug, decision: decision.ruleKey,
          ...(extra.recipe ? { recipe: `${extra.recipe.slug}/${extra.recipe.version}` } : {}),
          ...(extra.accounts ? { accounts: extra.accounts.map((a) => a.name) } : {}),
          ...(extra.settings ? { sysctl: Object.keys(extra.settings.sysctl), env: Object.keys(extra.settings.env) } : {}),
          ...(extra.uploads.length ? { uploads: extra.uploads.map((u) => ({ field: u.field, size: u.size, sha256: u.sha256 })) } : {}),
        },
        after: { status: order.status, name: order.name, reason: order.reason },
      });
      return { order, run, mailIds };
    });
  } catch (err) {
    if (err instanceof UserError && err.fields?.quota) {
      await recordDecision(db, {
        outcome: "refuse", ruleKey: "quota", ruleId: null, ruleName: "Quota", explanation: `refused: ${err.fields.quota.join("; ")}`,
        orderId: null, userId: actor.id, groupId: group.id, request,
      });
    }
    throw err;
  }
  if (result.run) await dispatchRun(result.run);
  await dispatchMail(result.mailIds);
  return { id: result.order.id, status: result.order.status, reason: result.order.reason, rule: decision.ruleName };
}

/** The order if the actor may see it (owner, approver of its group, admin), else 404. */
export async function orderForActor(db: Db, actor: Actor, orderId: string) {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) throw notFound("Order");
  if (actor.role === "admin" || order.userId === actor.id) return order;
  const groupsICanApprove = await approverGroupIds(db, actor);
  if (groupsICanApprove.includes(order.groupId)) return order;
  throw notFound("Order");
}

/** Moves an order from `from` to `to` only if it is still in `from`; 409 otherwise. */
async function transition(db: Db, orderId: string, from: OrderStatus[], set: Partial<typeof orders.$inferInsert>) {
  const rows = await db
    .update(orders)
    .set({ ...set, updatedAt: new Date() })
    .where(and(eq(orders.id, orderId), inArray(orders.status, from)))
    .returning();
  if (rows.length === 0) {
    const [now] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
    throw conflict(`The order is ${now?.status.replace("_", " ") ?? "gone"}; it cannot be changed that way now`);
  }
  return rows[0];
}

/**
 * Approves a held order. Pre-flight runs first: when a check fails the approval is refused
 * (409, the failed checks listed) unless the approver overrides with a reason, which is audited.
 */
export async function approveOrder(db: Db, actor: Actor, orderId: string, note?: string, opts: { override?: boolean } = {}) {
  const order = await orderForActor(db, actor, orderId);
  if (!(await isApproverFor(db, actor, order.groupId))) throw forbidden("Only an approver of this order's group can approve it");
  if (order.status !== "pending_approval") throw conflict(`The order is ${order.status.replace("_", " ")}; it cannot be changed that way now`);
  const check = await preflight(db, orderId);
  const failed = check.checks.filter((c) => !c.ok);
  if (failed.length && !opts.override) {
    throw new UserError(
      `Pre-flight failed: ${failed.map((c) => `${c.label}: ${c.detail}`).join("; ")}. Approve with an override and a reason to go ahead anyway`,
      409,
      { preflight: failed.map((c) => `${c.label}: ${c.detail}`) },
    );
  }
  if (failed.length) {
    await writeAudit(db, {
      actorId: actor.id, action: "order.approve.override", targetType: "order", targetId: orderId,
      data: { reason: note, failed: failed.map((c) => ({ check: c.key, detail: c.detail })) },
    });
  }
  const { run, updated, mailIds } = await db.transaction(async (tx) => {
    const updated = await transition(tx, orderId, ["pending_approval"], {
      status: "queued",
      decidedBy: actor.id,
      reason: `approved by ${actor.email}${failed.length ? " despite failed pre-flight" : ""}${note ? `: ${note}` : ""}`,
      decidedAt: new Date(),
      queuedAt: new Date(),
    });
    const mailIds = await recordOrderEvent(tx, { kind: "order.approved", orderId, actorId: actor.id, note });
    return { updated, run: await createRun(tx, orderId, "provision"), mailIds };
  });
  await writeAudit(db, { actorId: actor.id, action: "order.approve", targetType: "order", targetId: orderId, data: { note }, before: { status: order.status }, after: { status: updated.status, reason: updated.reason } });
  await announce(orderId, "approved");
  await dispatchRun(run);
  await dispatchMail(mailIds);
  return { id: updated.id, status: updated.status };
}

export async function rejectOrder(db: Db, actor: Actor, orderId: string, reason: string) {
  const order = await orderForActor(db, actor, orderId);
  if (!(await isApproverFor(db, actor, order.groupId))) throw forbidden("Only an approver of this order's group can reject it");
  const { updated, mailIds } = await db.transaction(async (tx) => {
    const updated = await transition(tx, orderId, ["pending_approval"], {
      status: "rejected",
      decidedBy: actor.id,
      reason: `rejected by ${actor.email}: ${reason}`,
      decidedAt: new Date(),
    });
    return { updated, mailIds: await recordOrderEvent(tx, { kind: "order.rejected", orderId, actorId: actor.id, reason }) };
  });
  await writeAudit(db, { actorId: actor.id, action: "order.reject", targetType: "order", targetId: orderId, data: { reason }, before: { status: order.status }, after: { status: updated.status, reason: updated.reason } });
  await announce(orderId, "rejected");
  await dispatchMail(mailIds);
  return { id: updated.id, status: updated.status, reason: updated.reason };
}

function assertOwnerOrAdmin(actor: Actor, order: { userId: string }) {
  if (actor.role !== "admin" && order.userId !== actor.id) throw forbidden("Only the customer who ordered it or an admin can do that");
}

export async function cancelOrder(db: Db, actor: Actor, orderId: string) {
  const order = await orderForActor(db, actor, orderId);
  assertOwnerOrAdmin(actor, order);
  if (!isCancellable(order.status)) throw conflict(`The order is ${order.status.replace("_", " ")}; it cannot be cancelled now`);
  const updated = await transition(db, orderId, [order.status], { status: "cancelled", reason: `cancelled by ${actor.email}` });
  if (order.status === "queued") {
    await db.update(pipelineRuns).set({ status: "cancelled", finishedAt: new Date() }).where(and(eq(pipelineRuns.orderId, orderId), eq(pipelineRuns.status, "queued")));
  }
  // A failed order may have left a half-built environment: tear it down. A provisioning
  // run sees the cancel at its next step and tears down what it built.
  if (order.status === "failed") await startTeardown(db, orderId);
  await writeAudit(db, { actorId: actor.id, action: "order.cancel", targetType: "order", targetId: orderId, data: { from: order.status }, before: { status: order.status }, after: { status: updated.status } });
  await announce(orderId, "cancelled");
  return { id: updated.id, status: updated.status };
}

export async function retryOrder(db: Db, actor: Actor, orderId: string) {
  const order = await orderForActor(db, actor, orderId);
  assertOwnerOrAdmin(actor, order);
  const run = await latestRun(db, orderId);
  const hold = order.status === "failed" ? await failedHoldOf(db, orderId) : null;
  if (hold?.state === "releasing") throw conflict("Its host and addresses are being released; retry once that has finished");
  if (hold?.state === "released") return redeliver(db, actor, order);
  if (!run || run.status !== "failed") throw conflict("Only a failed pipeline can be retried");
  const next = await db.transaction(async (tx) => {
    const nextStatus = run.kind === "provision" ? "queued" : "retiring";
    if (run.kind === "provision") {
      await transition(tx, orderId, ["failed"], { status: nextStatus, reason: `retried by ${actor.email}` });
      // Holding the order's row now: the hold's release may have started a teardown just before.
      if ((await latestRun(tx, orderId))?.id !== run.id) throw conflict("Its host and addresses are being released; retry once that has finished");
    } else if (hold?.state !== "release_failed") {
      // (A failed release of a failed order's hold is retried; the order itself stays failed.)
      await tx.update(orders).set({ status: order.status === "failed" ? "retiring" : order.status, updatedAt: new Date() }).where(eq(orders.id, orderId));
    }
    return resetFailedRun(tx, run.id);
  });
  await writeAudit(db, { actorId: actor.id, action: "order.retry", targetType: "order", targetId: orderId, data: { run: run.id, attempt: next.attempt }, before: { status: order.status }, after: { status: next.kind === "provision" ? "queued" : order.status === "failed" ? "retiring" : order.status } });
  await announce(orderId, "retry");
  await dispatchRun(next);
  const [now] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
  return { id: orderId, status: now.status };
}

/**
 * Retry of a failed order whose hold was released: a new delivery from choosing a host (the
 * failed run stays as the record of what went wrong).
 */
async function redeliver(db: Db, actor: Actor, order: typeof orders.$inferSelect) {
  const run = await db.transaction(async (tx) => {
    await transition(tx, order.id, ["failed"], { status: "queued", reason: `retried by ${actor.email}: delivered again from choosing a host (the failed attempt's host and addresses were released)`, queuedAt: new Date() });
    return createRun(tx, order.id, "provision");
  });
  await writeAudit(db, { actorId: actor.id, action: "order.retry", targetType: "order", targetId: order.id, data: { run: run.id, released: true }, before: { status: order.status }, after: { status: "queued" } });
  await announce(order.id, "retry");
  await dispatchRun(run);
  return { id: order.id, status: "queued" as const };
}

/** Destroys a delivered environment: stop, remove, free its addresses. */
export async function destroyEnvironment(db: Db, actor: Actor, orderId: string) {
  const order = await orderForActor(db, actor, orderId);
  assertOwnerOrAdmin(actor, order);
  const { updated, mailIds } = await db.transaction(async (tx) => {
    const why = `destroy requested by ${actor.email}`;
    const updated = await transition(tx, orderId, ["ready"], { status: "retiring", reason: why });
    return { updated, mailIds: await recordOrderEvent(tx, { kind: "environment.retired", orderId, actorId: actor.id, why }) };
  });
  await writeAudit(db, { actorId: actor.id, action: "order.destroy", targetType: "order", targetId: orderId, before: { status: order.status }, after: { status: updated.status } });
  await startTeardown(db, orderId, actor.id);
  await dispatchMail(mailIds);
  return { id: updated.id, status: updated.status };
}

export type OrderListScope = "mine" | "all" | "approvals";

/** The image version an environment was built from, and the image's current one (two joins of one table). */
const builtVersion = alias(imageVersions, "built_version");
const currentVersion = alias(imageVersions, "current_version");

/**
 * Outdated: a delivered environment (or one being rebuilt) built from an older version of its
 * image than the image's current one. An environment on a newer version (the image's current
 * version was set back) is not outdated.
 */
export function isOutdated(status: OrderStatus, built: number | null, current: number | null): boolean {
  if (built === null || current === null) return false;
  return ["ready", "queued", "provisioning", "failed", "expiring"].includes(status) && built < current;
}

/** Orders listed per page: newest first, or for the approval queue oldest first. */
export const ORDERS_PER_PAGE = 50;

/**
 * A page of orders: mine, every order (admins) or the approval queue (orders held in the
 * groups the actor approves for; every group for admins). Either `page` (1, 2, ...) or a
 * `cursor` from the previous page's nextCursor, which costs the same on any page. `perPage`
 * (ORDERS_PER_PAGE unless given) lets a page of big cards show fewer.
 */
export async function listOrders(db: Db, actor: Actor, scope: OrderListScope = "mine", page: number | { page?: number; cursor?: string; perPage?: number } = 1) {
  const opts = typeof page === "number" ? { page } : page;
  const perPage = opts.perPage ?? ORDERS_PER_PAGE;
  const base = db
    .select({
      id: orders.id, name: orders.name, status: orders.status, reason: orders.reason, purpose: orders.purpose,
      leaseDays: orders.leaseDays, createdAt: orders.createdAt, readyAt: orders.readyAt,
      image: images.name, imageSlug: images.slug, flavor: flavors.name, owner: users.email, group: groups.name,
      imageVersion: builtVersion.number,
      currentImageVersion: currentVersion.number,
      createdAtExact: sql<string>`${orders.createdAt}::text`,
    })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .leftJoin(environments, eq(environments.orderId, orders.id))
    .leftJoin(builtVersion, eq(builtVersion.id, environments.imageVersionId))
    .leftJoin(currentVersion, eq(currentVersion.id, images.currentVersionId));
  if (scope === "all" && actor.role !== "admin") throw forbidden("Only admins can list every order");
  const after = opts.cursor ? decodeCursor(opts.cursor, 2) : null;
  if (opts.cursor && (!after || !isCursorTime(after[0]) || !isUuid(after[1]))) {
    throw new UserError("Invalid input", 422, { cursor: ["Not a cursor from this list: start again without one"] });
  }
  const oldestFirst = scope === "approvals";
  const where: SQL[] = [];
  if (scope === "mine") where.push(eq(orders.userId, actor.id));
  if (scope === "approvals") {
    where.push(eq(orders.status, "pending_approval"));
    if (actor.role !== "admin") {
      where.push(inArray(orders.groupId, db.select({ groupId: memberships.groupId }).from(memberships).where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver")))));
    }
  }
  if (after) {
    where.push(oldestFirst
      ? sql`(${orders.createdAt}, ${orders.id}) > (${after[0]}::timestamptz, ${after[1]}::uuid)`
      : sql`(${orders.createdAt}, ${orders.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  }
  // One row more than a page tells whether there is a next page.
  const rows = await base
    .where(and(...where))
    .orderBy(...(oldestFirst ? [asc(orders.createdAt), asc(orders.id)] : [desc(orders.createdAt), desc(orders.id)]))
    .limit(perPage + 1)
    .offset(after ? 0 : (Math.max(1, opts.page ?? 1) - 1) * perPage);
  const { rows: pageRows, nextCursor } = pageOf(rows, perPage, (r) => [r.createdAtExact, r.id]);
  return {
    orders: pageRows.map(({ createdAtExact: _c, currentImageVersion, ...o }) => ({ ...o, outdated: isOutdated(o.status, o.imageVersion, currentImageVersion) })),
    hasMore: nextCursor !== null,
    nextCursor,
  };
}

const LOG_LINES_PER_STEP = 200;

/** The last LOG_LINES_PER_STEP lines of each step, oldest first: a long step's log is read in part. */
async function lastLogLines(db: Db, stepIds: string[]) {
  const ranked = db
    .select({
      id: stepLogs.id, stepId: stepLogs.stepId, attempt: stepLogs.attempt, line: stepLogs.line, at: stepLogs.at,
      rn: sql<number>`row_number() over (partition by ${stepLogs.stepId} order by ${stepLogs.id} desc)`.as("rn"),
    })
    .from(stepLogs)
    .where(inArray(stepLogs.stepId, stepIds))
    .as("ranked");
  return db.select().from(ranked).where(sql`${ranked.rn} <= ${LOG_LINES_PER_STEP}`).orderBy(asc(ranked.id));
}

/** What the order page and `GET /api/v1/orders/:id` show: the order, its steps, its environment. */
export async function orderView(db: Db, orderId: string) {
  const [row] = await db
    .select({ order: orders, image: images, flavor: flavors, owner: users.email, group: groups.name })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .where(eq(orders.id, orderId));
  if (!row) throw notFound("Order");
  const [decision] = await db
    .select({ outcome: policyDecisions.outcome, rule: policyDecisions.ruleName, ruleKey: policyDecisions.ruleKey, explanation: policyDecisions.explanation })
    .from(policyDecisions)
    .where(eq(policyDecisions.orderId, orderId))
    .orderBy(asc(policyDecisions.id))
    .limit(1);
  const runs = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, orderId)).orderBy(asc(pipelineRuns.createdAt));
  const provision = runs.filter((r) => r.kind === "provision").at(-1);
  // A teardown from before the latest delivery (a released hold, then a retry) is history.
  const teardown = runs.filter((r) => r.kind === "destroy" && (!provision || r.createdAt >= provision.createdAt)).at(-1);
  const runIds = [provision?.id, teardown?.id].filter((x): x is string => Boolean(x));
  const steps = runIds.length
    ? await db.select().from(pipelineSteps).where(inArray(pipelineSteps.runId, runIds)).orderBy(asc(pipelineSteps.position))
    : [];
  const logs = steps.length ? await lastLogLines(db, steps.map((s) => s.id)) : [];
  const logsByStep = new Map<string, { attempt: number; line: string; at: string }[]>();
  for (const l of logs) {
    const list = logsByStep.get(l.stepId) ?? [];
    list.push({ attempt: l.attempt, line: l.line, at: l.at.toISOString() });
    logsByStep.set(l.stepId, list);
  }
  const stepView = (runId: string | undefined) =>
    steps
      .filter((s) => s.runId === runId)
      .map((s) => ({
        name: s.name,
        label: stepLabel(s.name),
        phase: s.phase,
        status: s.status,
        attempt: s.attempt,
        startedAt: s.startedAt?.toISOString() ?? null,
        finishedAt: s.finishedAt?.toISOString() ?? null,
        durationMs: s.startedAt && s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
        error: s.error,
        /** The worker that ran the step's latest attempt. */
        worker: s.workerId,
        log: (logsByStep.get(s.id) ?? []).slice(-LOG_LINES_PER_STEP),
      }));

  const [envRow] = await db
    .select({ environment: environments, host: hosts.name, hostKind: hosts.kind, version: builtVersion })
    .from(environments)
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .leftJoin(builtVersion, eq(builtVersion.id, environments.imageVersionId))
    .where(eq(environments.orderId, orderId));
  const [current] = row.image.currentVersionId
    ? await db.select({ number: imageVersions.number, changelog: imageVersions.changelog }).from(imageVersions).where(eq(imageVersions.id, row.image.currentVersionId))
    : [];
  const addresses = envRow
    ? await db
        .select({ network: networks.slug, networkName: networks.name, purpose: networks.purpose, ip: ipAllocations.ip, mac: ipAllocations.mac })
        .from(ipAllocations)
        .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
        .where(eq(ipAllocations.orderId, orderId))
        .orderBy(asc(networks.purpose))
    : [];
  const migrations = envRow ? await migrationsOf(db, envRow.environment.id) : [];
  const power = envRow ? await powerActionsOf(db, envRow.environment.id) : [];
  const snapshotList = envRow ? await snapshotsOf(db, envRow.environment.id) : [];
  const day2 = envRow ? await day2ActionsOf(db, envRow.environment.id) : [];
  const pointing = envRow ? await serviceIpsOfEnvironment(db, envRow.environment.id) : [];
  const o = row.order;
  // A delivered order has a lease; the page's lease card follows it (ending, extended, retired).
  const lease = envRow && o.readyAt ? await leaseForOrder(db, orderId) : null;
  return {
    id: o.id,
    name: o.name,
    status: o.status,
    reason: o.reason,
    /** The policy decision at submission: which rule, and why, in words. */
    policy: decision ?? null,
    purpose: o.purpose,
    leaseDays: o.leaseDays,
    owner: row.owner,
    group: row.group,
    image: { id: row.image.id, slug: row.image.slug, name: row.image.name, os: row.image.os, currentVersion: current?.number ?? null, currentChangelog: current?.changelog ?? null },
    flavor: { id: row.flavor.id, slug: row.flavor.slug, name: row.flavor.name, vcpus: row.flavor.vcpus, memoryMb: row.flavor.memoryMb, diskGb: row.flavor.diskGb, cpuCap: row.flavor.cpuCap },
    createdAt: o.createdAt.toISOString(),
    readyAt: o.readyAt?.toISOString() ?? null,
    /** A failed order: until when it holds its host and addresses for a retry, or that it released them. */
    hold: row.order.status === "failed" ? await failedHoldOf(db, orderId) : null,
    run: provision ? { id: provision.id, status: provision.status, attempt: provision.attempt, error: provision.error, waitingFor: provision.waitingFor } : null,
    /** The image's recipe: its parameters, its own steps (from the guest's console) and outputs (secrets: only whether they can be shown). */
    recipe: await orderRecipeView(db, o, steps.find((s) => s.runId === provision?.id && s.name === "wait_ready") ?? null, addresses),
    accounts: accountsView(o.accounts),
    settings: settingsView(o.settings),
    steps: stepView(provision?.id),
    teardown: teardown ? { status: teardown.status, waitingFor: teardown.waitingFor, steps: stepView(teardown.id) } : null,
    environment: envRow
      ? {
          id: envRow.environment.id,
          hostname: envRow.environment.hostname,
          host: envRow.host,
          hostKind: envRow.hostKind,
          state: envRow.environment.state,
          placement: envRow.environment.placement,
          expiresAt: envRow.environment.expiresAt.toISOString(),
          addresses: addresses.map((a) => ({ network: a.network, networkName: a.networkName, purpose: a.purpose, ip: a.ip, mac: a.mac })),
          migrations,
          power,
          snapshots: snapshotList,
          day2,
          /** Service IPs pointing at the environment, or on their way to it. */
          serviceIps: pointing,
          connection: connectionOf(o.status, envRow.environment.login, addresses, databaseEndpoint(o.recipe)),
          /** The image version it was (last) built from, and whether the image has a newer current one. */
          imageVersion: envRow.version?.number ?? null,
          outdated: isOutdated(o.status, envRow.version?.number ?? null, current?.number ?? null),
        }
      : undefined,
    lease,
    // Final once the order is terminal and no run is still recording its last step (the
    // release step retires the order a moment before it marks itself succeeded).
    final: (terminalStatuses as readonly string[]).includes(o.status) && provision?.status !== "running" && teardown?.status !== "running",
  };
}

export type OrderView = Awaited<ReturnType<typeof orderView>>;
