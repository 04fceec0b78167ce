import { and, asc, eq, inArray, ne, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, hosts, ipAllocations, memberships, networks, orders, serviceIpMoves, serviceIps } from "../db/schema";
import type { Actor } from "../auth/actor";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { markUnchanged, writeAudit } from "../audit/write";
import { announce } from "../pipeline/events";
import { deploySpec, loadOrderContext, type OrderContext } from "../pipeline/context";
import { driverFor } from "../pipeline/drivers";
import { StepError, type AddressWatch, type DeploySpec, type HypervisorDriver, type ServiceIpRef } from "../drivers/types";
import { orderForActor } from "../orders/queries";
import { serviceIpFor, viewsOf } from "../net/service-ips";
import type { ServiceIpAttachInput } from "../net/service-ip-input";
import { isUuid } from "../validation/ids";
import { dispatchAction, refuseWhileBusy, type ActionHandler } from "./actions";

/**
 * Where a service IP points (lib/net/service-ips.ts owns the addresses): attach it to a running
 * environment of its group on its network, detach it, or attach it to another environment
 * while it points at one, which moves it in one step (off the old guest, onto the new one).
 * Each change is a service_ip_moves row and a lifecycle action on the environment that gets
 * the address (attach_ip) or loses it (detach_ip), so it waits its turn with the
 * environment's other actions and runs on the worker that owns the host. The driver measures
 * from the host's side how long the address did not answer (QEMU: ping from the host's network
 * namespace); the row keeps it, and an audit event says who moved what where.
 */

/** How long the address may take to answer the host after the change before the move says so (it still succeeds). */
const ANSWER_WAIT_MS = 15_000;

type EnvRow = typeof environments.$inferSelect;

/** The environment an attach names (its id or its name), if the caller may see it; 404 otherwise. */
async function environmentNamed(db: Db, actor: Actor, ref: string): Promise<EnvRow> {
  const rows = await db
    .select()
    .from(environments)
    .where(isUuid(ref) ? eq(environments.id, ref) : and(eq(environments.hostname, ref), ne(environments.state, "deleted")));
  for (const env of rows) {
    const visible = await orderForActor(db, actor, env.orderId).then(() => true, () => false);
    if (visible) return env;
  }
  throw new UserError(`Environment ${ref} not found`, 404, { environment: [`No environment "${ref}" that you may use`] });
}

/** The view a request answers with: the service IP as it is now, and the change it queued. */
async function answer(db: Db, serviceIpId: string, moveId: string | null, actionId: string | null) {
  const [row] = await db.select().from(serviceIps).where(eq(serviceIps.id, serviceIpId));
  const [view] = await viewsOf(db, [row!]);
  return { ...view!, moveId, actionId };
}

/**
 * Points the service IP at `input.environment` (202, queued): a running environment of the
 * service IP's group that has an address on its network. Refused with 404 for an environment
 * the caller may not see, 403 for one of another group, 422 when it is on no such network, 409
 * when it is not running, busy with another action, or the service IP is being changed. When
 * the service IP points at another environment, this moves it. 200 when it points there already.
 */
export async function requestServiceIpAttach(db: Db, actor: Actor, serviceIpId: string, input: ServiceIpAttachInput) {
  const sip = await serviceIpFor(db, actor, serviceIpId, "manage");
  const env = await environmentNamed(db, actor, input.environment);
  const [order] = await db.select().from(orders).where(eq(orders.id, env.orderId));
  if (order!.groupId !== sip.groupId) {
    throw forbidden(`${env.hostname} belongs to another group than service IP ${sip.name}: a service IP points only at environments of the group that owns it`);
  }
  const queued = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(serviceIps).where(eq(serviceIps.id, sip.id)).for("update");
    if (!current) throw notFound("Service IP");
    await refuseWhileChanging(tx, current);
    if (current.environmentId === env.id) return null;
    const [target] = await tx.select().from(environments).where(eq(environments.id, env.id)).for("update");
    const [o] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, target!.orderId));
    if (o!.status !== "ready") throw conflict(`The order of ${target!.hostname} is ${o!.status.replace("_", " ")}; a service IP is attached only to a delivered environment`, "environment");
    if (target!.state !== "running") {
      throw conflict(`${target!.hostname} is ${target!.state}; a service IP can be attached only to a running environment (start it first)`, "environment");
    }
    const [onNetwork] = await tx
      .select({ ip: ipAllocations.ip })
      .from(ipAllocations)
      .where(and(eq(ipAllocations.orderId, target!.orderId), eq(ipAllocations.networkId, current.networkId)));
    if (!onNetwork) {
      const [net] = await tx.select({ name: networks.name }).from(networks).where(eq(networks.id, current.networkId));
      const why = `${target!.hostname} has no address on network ${net?.name}, where service IP ${current.name} (${current.ip}) is`;
      throw new UserError(why, 422, { environment: [why] });
    }
    await refuseWhileBusy(tx, target!.id);
    const [host] = await tx.select().from(hosts).where(eq(hosts.id, target!.hostId));
    const driver = driverFor(host!.kind, tx);
    if (!driver.attachServiceIp) throw conflict(`Environments on ${host!.kind} hosts cannot carry service IPs in this version`, "environment");
    if (current.environmentId) await refuseWhileBusy(tx, current.environmentId);
    const kind = current.environmentId ? ("move" as const) : ("attach" as const);
    const [move] = await tx
      .insert(serviceIpMoves)
      .values({ serviceIpId: current.id, kind, fromEnvironmentId: current.environmentId, toEnvironmentId: target!.id, requestedBy: actor.id })
      .returning();
    const [action] = await tx
      .insert(environmentActions)
      .values({ environmentId: target!.id, action: "attach_ip", requestedBy: actor.id, fromHostId: target!.hostId, serviceIpMoveId: move!.id })
      .returning();
    await writeAudit(tx, {
      actorId: actor.id, action: `service_ip.${kind}`, targetType: "service_ip", targetId: current.id,
      data: { name: current.name, ip: current.ip, from: current.environmentId, to: target!.id, toName: target!.hostname, move: move!.id, action: action!.id },
    });
    return { move: move!, action: action!, from: current.environmentId };
  });
  if (!queued) {
    markUnchanged();
    return { status: 200 as const, body: await answer(db, sip.id, null, null) };
  }
  await announceEnvironments(db, [env.id, queued.from]);
  await dispatchAction(queued.action.id);
  return { status: 202 as const, body: await answer(db, sip.id, queued.move.id, queued.action.id) };
}

/**
 * Takes the service IP off the environment it points at (202, queued; running or stopped). 409
 * when it points nowhere or is being changed. An environment whose order is no longer
 * delivered (being retired) lets go of it at once: there is nothing to do on its host.
 */
export async function requestServiceIpDetach(db: Db, actor: Actor, serviceIpId: string) {
  const sip = await serviceIpFor(db, actor, serviceIpId, "manage");
  const queued = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(serviceIps).where(eq(serviceIps.id, sip.id)).for("update");
    if (!current) throw notFound("Service IP");
    await refuseWhileChanging(tx, current);
    if (!current.environmentId) throw conflict(`Service IP ${current.name} (${current.ip}) is not attached to any environment`);
    const [env] = await tx.select().from(environments).where(eq(environments.id, current.environmentId)).for("update");
    const [o] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, env!.orderId));
    const gone = env!.state === "deleted" || o!.status !== "ready";
    if (!gone) await refuseWhileBusy(tx, env!.id);
    const [move] = await tx
      .insert(serviceIpMoves)
      .values({
        serviceIpId: current.id, kind: "detach", fromEnvironmentId: env!.id, requestedBy: actor.id,
        ...(gone ? { status: "succeeded" as const, startedAt: new Date(), finishedAt: new Date(), totalMs: 0, note: `the order of ${env!.hostname} is ${o!.status}: nothing to do on its host` } : {}),
      })
      .returning();
    await writeAudit(tx, {
      actorId: actor.id, action: "service_ip.detach", targetType: "service_ip", targetId: current.id,
      data: { name: current.name, ip: current.ip, from: env!.id, fromName: env!.hostname, move: move!.id },
    });
    if (gone) {
      await tx.update(serviceIps).set({ environmentId: null, attachedAt: null }).where(eq(serviceIps.id, current.id));
      return { move: move!, action: null, env: env! };
    }
    const [action] = await tx
      .insert(environmentActions)
      .values({ environmentId: env!.id, action: "detach_ip", requestedBy: actor.id, fromHostId: env!.hostId, serviceIpMoveId: move!.id })
      .returning();
    return { move: move!, action: action!, env: env! };
  });
  await announceEnvironments(db, [queued.env.id]);
  if (queued.action) await dispatchAction(queued.action.id);
  return { status: queued.action ? (202 as const) : (200 as const), body: await answer(db, sip.id, queued.move.id, queued.action?.id ?? null) };
}

async function refuseWhileChanging(tx: Db, sip: typeof serviceIps.$inferSelect) {
  const [pending] = await tx.select({ kind: serviceIpMoves.kind, status: serviceIpMoves.status }).from(serviceIpMoves).where(and(eq(serviceIpMoves.serviceIpId, sip.id), inArray(serviceIpMoves.status, ["queued", "running"])));
  if (pending) throw conflict(`A ${pending.kind} of service IP ${sip.name} is already ${pending.status === "queued" ? "queued" : "in progress"}; wait until it is done`);
}

async function announceEnvironments(db: Db, ids: (string | null)[]) {
  const wanted = ids.filter((id): id is string => Boolean(id));
  if (!wanted.length) return;
  const rows = await db.select({ orderId: environments.orderId }).from(environments).where(inArray(environments.id, wanted));
  for (const r of rows) await announce(r.orderId, "service-ip");
}

/** One side of a change: the environment's order as a step sees it, its driver, and its spec with the service IP list it should have afterwards. */
type Side = { ctx: OrderContext; driver: HypervisorDriver; spec: DeploySpec };

/** The environment a move takes the address from, or null when it is gone or no longer delivered (nothing to do on its host). */
async function sideOf(db: Db, environmentId: string, ref: ServiceIpRef, io: { log: (l: string) => Promise<void> }): Promise<Side | null> {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env || env.state === "deleted") {
    await io.log(`the environment it pointed at is gone: nothing to take off`);
    return null;
  }
  const ctx = await loadOrderContext(db, env.orderId);
  if (!ctx.host || ctx.order.status !== "ready") {
    await io.log(`${env.hostname}'s order is ${ctx.order.status}: nothing to change on its host`);
    return null;
  }
  return sideFromContext(db, ctx, ref, false);
}

function sideFromContext(db: Db, ctx: OrderContext, ref: ServiceIpRef, holds: boolean): Side {
  const spec = deploySpec(ctx);
  const others = (spec.serviceIps ?? []).filter((s) => s.ip !== ref.ip);
  return { ctx, driver: driverFor(ctx.host!.kind, db), spec: { ...spec, serviceIps: holds ? [...others, ref] : others } };
}

/**
 * The attach_ip and detach_ip actions: runs the service IP change its row names. A move takes
 * the address off the old guest, then puts it on the new one, while the new guest's driver
 * watches the address from the host's side; if the new guest refuses it, the old one gets it
 * back. Idempotent (the drivers' steps are), so a redelivered job does it again harmlessly.
 */
export const runServiceIpChange: ActionHandler = async (db, actx, io) => {
  const moveId = actx.action.serviceIpMoveId;
  if (!moveId) throw new StepError("the action names no service IP change");
  const [move] = await db.select().from(serviceIpMoves).where(eq(serviceIpMoves.id, moveId));
  if (!move) throw new StepError("the service IP was released meanwhile");
  if (move.status === "succeeded") return { moveId, downtimeMs: move.downtimeMs };
  const [sip] = await db.select().from(serviceIps).where(eq(serviceIps.id, move.serviceIpId));
  const [net] = await db.select({ slug: networks.slug }).from(networks).where(eq(networks.id, sip!.networkId));
  const ref: ServiceIpRef = { ip: sip!.ip, network: net!.slug };
  await db.update(serviceIpMoves).set({ status: "running", startedAt: move.startedAt ?? new Date(), error: null }).where(eq(serviceIpMoves.id, moveId));
  await announce(actx.order.order.id, "service-ip");

  const gets = actx.action.action === "attach_ip";
  const to = gets ? sideFromContext(db, actx.order, ref, true) : null;
  const fromId = gets ? move.fromEnvironmentId : actx.action.environmentId;
  const from = fromId && fromId !== to?.ctx.environment?.id ? (gets ? await sideOf(db, fromId, ref, io) : sideFromContext(db, actx.order, ref, false)) : null;

  const started = Date.now();
  let watch: AddressWatch | null = null;
  if (to?.driver.watchAddress) watch = await to.driver.watchAddress(to.spec, ref.ip).catch(async (err: Error) => (await io.log(`the address cannot be watched from the host: ${err.message}`), null));
  let detached = false;
  let sinceDetached = started;
  // A move rewrites the old guest's configuration after the new guest answers: not while the address is down.
  const deferPersist = Boolean(from && to && from.driver.persistServiceIps);
  try {
    if (from) {
      if (!from.driver.detachServiceIp) throw new StepError(`environments on ${from.spec.host.kind} hosts cannot let go of service IPs in this version`);
      await io.progress(10, `taking ${ref.ip} off ${from.spec.hostname}`);
      await from.driver.detachServiceIp(from.spec, ref, io, { persist: !deferPersist });
      detached = true;
      sinceDetached = Date.now();
    }
    if (to) {
      await io.progress(50, `putting ${ref.ip} on ${to.spec.hostname}`);
      await to.driver.attachServiceIp!(to.spec, ref, io);
    }
  } catch (err) {
    await watch?.stop().catch(() => null);
    let lost = false;
    if (from && detached && to) {
      // The new guest refused it: the old one takes it back, so the service is where it was.
      try {
        await io.log(`${to.spec.hostname} could not take ${ref.ip} (${(err as Error).message}); giving it back to ${from.spec.hostname}`);
        await from.driver.attachServiceIp!({ ...from.spec, serviceIps: [...(from.spec.serviceIps ?? []), ref] }, ref, io);
      } catch (back) {
        await io.log(`${from.spec.hostname} could not take it back either: ${(back as Error).message}`);
        lost = true;
      }
    }
    await db.transaction(async (tx) => {
      if (lost) await tx.update(serviceIps).set({ environmentId: null, attachedAt: null }).where(eq(serviceIps.id, sip!.id));
      await tx.update(serviceIpMoves).set({ status: "failed", error: (err as Error).message.slice(0, 500), finishedAt: new Date(), totalMs: Date.now() - started }).where(eq(serviceIpMoves.id, moveId));
    });
    throw err;
  }
  let note = "";
  let downtimeMs: number | null = null;
  if (deferPersist && from) {
    await from.driver.persistServiceIps!(from.spec, io).catch(async (err: Error) => {
      note = `${from.spec.hostname}'s configuration still lists ${ref.ip} (${err.message}): detach it there before it restarts; `;
      await io.log(note);
    });
  }
  if (watch) {
    const answered = await watch.answeredSince(sinceDetached, ANSWER_WAIT_MS);
    const measured = await watch.stop();
    if (move.kind === "move") {
      downtimeMs = measured.downtimeMs;
      note += measured.note;
    } else note += measured.downtimeMs === null ? measured.note : `answered the host ${measured.downtimeMs} ms after the change began`;
    if (!answered && !measured.note.startsWith("not measured")) note += `; ${ref.ip} did not answer the host within ${ANSWER_WAIT_MS / 1000} s after the change`;
  } else if (to) note += `not measured: ${to.spec.host.kind} hosts do not watch the address from the host in this version`;
  const totalMs = Date.now() - started;
  const toId = to?.ctx.environment?.id ?? null;
  await db.transaction(async (tx) => {
    await tx.update(serviceIps).set({ environmentId: toId, attachedAt: toId ? new Date() : null }).where(eq(serviceIps.id, sip!.id));
    await tx.update(serviceIpMoves).set({ status: "succeeded", finishedAt: new Date(), totalMs, downtimeMs, note: note.slice(0, 500) || null }).where(eq(serviceIpMoves.id, moveId));
    await writeAudit(tx, {
      actorId: move.requestedBy, action: `service_ip.${move.kind === "move" ? "moved" : move.kind === "attach" ? "attached" : "detached"}`, targetType: "service_ip", targetId: sip!.id,
      data: {
        name: sip!.name, ip: ref.ip, move: moveId,
        from: from ? { id: from.ctx.environment!.id, name: from.spec.hostname } : null,
        to: to ? { id: toId, name: to.spec.hostname } : null,
        totalMs, downtimeMs,
      },
    });
  });
  await announceEnvironments(db, [toId, from?.ctx.environment?.id ?? null, actx.action.environmentId]);
  const where = to ? `now on ${to.spec.hostname}` : `detached from ${from?.spec.hostname ?? "its environment"}`;
  await io.progress(100, `${ref.ip} ${where} (${totalMs} ms${downtimeMs !== null ? `, downtime ${downtimeMs} ms` : ""})`);
  return { moveId, kind: move.kind, ip: ref.ip, totalMs, downtimeMs, note: note || null };
};


/**
 * Running, delivered environments `actor` may point a service IP at (their own; an approver's
 * groups'; admins: all), with the networks each has an address on: what the forms offer.
 */
export async function attachableEnvironments(db: Db, actor: Actor, opts: { groupId?: string; limit?: number } = {}) {
  const approverOf = actor.role === "admin" ? [] : (await db.select({ id: memberships.groupId }).from(memberships).where(and(eq(memberships.userId, actor.id), eq(memberships.role, "approver")))).map((m) => m.id);
  const rows = await db
    .select({ id: environments.id, hostname: environments.hostname, orderId: environments.orderId, groupId: orders.groupId })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .where(
      and(
        eq(environments.state, "running"),
        eq(orders.status, "ready"),
        opts.groupId ? eq(orders.groupId, opts.groupId) : undefined,
        actor.role === "admin" ? undefined : approverOf.length ? or(eq(orders.userId, actor.id), inArray(orders.groupId, approverOf)) : eq(orders.userId, actor.id),
      ),
    )
    .orderBy(asc(environments.hostname))
    .limit(opts.limit ?? 200);
  const nets = rows.length
    ? await db
        .select({ orderId: ipAllocations.orderId, networkId: ipAllocations.networkId })
        .from(ipAllocations)
        .where(inArray(ipAllocations.orderId, rows.map((r) => r.orderId)))
    : [];
  return rows.map((r) => ({ ...r, networkIds: nets.filter((n) => n.orderId === r.orderId).map((n) => n.networkId) }));
}
