import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, hosts, orders, serviceIpMoves, snapshots, type EnvironmentActionKind } from "../db/schema";
import type { Actor } from "../auth/actor";
import { orderForActor } from "../orders/queries";
import { driverFor } from "../pipeline/drivers";
import { StepError, type DeploySpec, type HypervisorDriver, type MigrateIo } from "../drivers/types";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { enqueueLifecycle, enqueueOrLeave } from "../jobs/queues";
import { announce } from "../pipeline/events";
import { deploySpec, loadOrderContext, type OrderContext } from "../pipeline/context";
import { recordOrderEvent } from "../notifications/order-events";
import { dispatchMail } from "../mail/outbox";
import { workerId } from "../env";
import { ownerOfOrder } from "../workers/routing";
import { ownerState, waitingSentence } from "../workers/registry";

export type EnvironmentAction = typeof environmentActions.$inferSelect;

/** What an action's handler gets: its row, the order as a step would see it, the host's driver. */
export type ActionContext = {
  action: EnvironmentAction;
  order: OrderContext;
  spec: DeploySpec;
  driver: HypervisorDriver;
};

/**
 * Runs one kind of action. Like a pipeline step it may run again for the same row (a
 * redelivered job): it checks what is already done. A StepError/UserError fails the action
 * with its message; any other error is retried by the queue. What it returns is stored as
 * the action's `result`.
 */
export type ActionHandler = (db: Db, ctx: ActionContext, io: MigrateIo) => Promise<Record<string, unknown> | void>;
export type ActionHandlers = Partial<Record<EnvironmentActionKind, ActionHandler>>;

const labels: Record<EnvironmentActionKind, string> = {
  start: "start",
  stop: "stop",
  migrate: "live migration",
  move: "cold move",
  snapshot: "snapshot",
  revert: "revert to a snapshot",
  delete_snapshot: "snapshot deletion",
  resize: "resize",
  backup: "backup",
  restore: "restore",
  verify: "backup verification",
  attach_ip: "service IP attachment",
  detach_ip: "service IP detachment",
  credentials: "password change",
};

/**
 * What an action adds to its row, decided inside the request's transaction with the
 * environment locked (the snapshot it works on, the flavor of a resize), and for the audit.
 */
export type ActionPrepare = (
  tx: Db,
  env: typeof environments.$inferSelect,
  driver: HypervisorDriver,
) => Promise<{ snapshotId?: string; flavorId?: string; audit?: Record<string, unknown>; held?: string }>;

/** Actions that are waiting or running hold the environment: one at a time. */
const busy = ["queued", "running"] as const;

/**
 * The environment, for its owner or an admin: 404 to whoever may not see its order, 403 to
 * those who may see it but not act on it (an approver of its group).
 */
export async function environmentForOwner(db: Db, actor: Actor, environmentId: string) {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw notFound("Environment");
  const order = await orderForActor(db, actor, env.orderId).catch((err) => {
    throw err instanceof UserError && err.status === 404 ? notFound("Environment") : err;
  });
  if (actor.role !== "admin" && order.userId !== actor.id) throw forbidden("Only the customer who ordered it or an admin can do that");
  return env;
}

async function environmentById(db: Db, environmentId: string) {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw notFound("Environment");
  return env;
}

/**
 * Asks for an action on a delivered environment: checks who asks and whether the state
 * allows it (409 with the reason otherwise), writes the row and an audit event, then
 * enqueues the job. Owner or admin only.
 */
export async function requestAction(
  db: Db,
  actor: Actor,
  environmentId: string,
  action: EnvironmentActionKind,
  opts: {
    targetHostId?: string;
    prepare?: ActionPrepare;
    auditData?: Record<string, unknown>;
    onCreate?: (tx: Db, action: EnvironmentAction) => Promise<void>;
    /** Asked by the portal itself on behalf of `actor` (a patch campaign its creator was allowed to start): no owner check. */
    onBehalf?: boolean;
  } = {},
): Promise<{ id: string; action: EnvironmentActionKind; status: string; environmentId: string; snapshotId: string | null }> {
  const env = opts.onBehalf ? await environmentById(db, environmentId) : await environmentForOwner(db, actor, environmentId);

  let audit: Record<string, unknown> = {};
  const row = await db.transaction(async (tx) => {
    // The environment's row is the lock: two requests at once see each other's action.
    const [current] = await tx.select().from(environments).where(eq(environments.id, environmentId)).for("update");
    const [o] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, current.orderId));
    if (o.status !== "ready") throw conflict(`The order is ${o.status.replace("_", " ")}; only a delivered environment can be ${action === "start" || action === "stop" ? "started or stopped" : "changed"}`);
    await refuseWhileBusy(tx, environmentId);
    const [host] = await tx.select().from(hosts).where(eq(hosts.id, current.hostId));
    const driver = driverFor(host.kind, tx);
    checkAllowed(action, current.state, driver);
    if (action === "migrate" || action === "move") {
      if (!opts.targetHostId) throw new UserError("Choose a target host", 422, { targetHostId: ["Choose a target host"] });
      if (opts.targetHostId === current.hostId) throw conflict(`The environment already runs on ${host.name}`, "targetHostId");
    }
    const extra = opts.prepare ? await opts.prepare(tx, current, driver) : {};
    audit = { ...extra.audit, ...(extra.held ? { held: extra.held } : {}) };
    // Held for an approver (`held` says why): recorded, not queued until approved.
    const [created] = await tx
      .insert(environmentActions)
      .values({
        environmentId, action, requestedBy: actor.id, fromHostId: current.hostId, targetHostId: opts.targetHostId ?? null,
        snapshotId: extra.snapshotId ?? null, flavorId: extra.flavorId ?? null,
        ...(extra.held ? { status: "held" as const, note: extra.held.slice(0, 500) } : {}),
      })
      .returning();
    // What the action needs besides its row (e.g. which backup a restore brings back), in the same commit.
    await opts.onCreate?.(tx, created);
    return created;
  });
  await writeAudit(db, {
    actorId: actor.id, action: `environment.${action}`, targetType: "environment", targetId: environmentId,
    data: { action: row.id, order: env.orderId, ...(opts.targetHostId ? { targetHostId: opts.targetHostId } : {}), ...audit, ...opts.auditData },
  });
  await announce(env.orderId, "action");
  if (row.status === "queued") await dispatchAction(row.id);
  return { id: row.id, action: row.action, status: row.status, environmentId, snapshotId: row.snapshotId };
}

/**
 * 409 naming what runs when one of the environment's actions is queued or running: one at a
 * time. Call inside the transaction that holds the environment's row locked.
 */
export async function refuseWhileBusy(tx: Db, environmentId: string): Promise<void> {
  const [pending] = await tx
    .select()
    .from(environmentActions)
    .where(and(eq(environmentActions.environmentId, environmentId), inArray(environmentActions.status, busy)))
    .limit(1);
  if (pending) throw conflict(`A ${labels[pending.action]} of this environment is already ${pending.status === "queued" ? "queued" : "in progress"}; wait until it is done`);
}

function checkAllowed(action: EnvironmentActionKind, state: string, driver: HypervisorDriver) {
  const kind = driver.kind;
  switch (action) {
    case "start":
      if (!driver.start) throw conflict(`Environments on ${kind} hosts cannot be started from the portal in this version`);
      if (state === "running") throw conflict("The environment is already running");
      if (state !== "stopped" && state !== "error") throw conflict(`The environment is ${state}; only a stopped environment can be started`);
      return;
    case "stop":
      if (!driver.stop) throw conflict(`Environments on ${kind} hosts cannot be stopped from the portal in this version`);
      if (state === "stopped") throw conflict("The environment is already stopped");
      if (state !== "running" && state !== "error") throw conflict(`The environment is ${state}; only a running environment can be stopped`);
      return;
    case "migrate":
      if (!driver.migrate || !driver.capabilities.liveMigration) throw conflict(`Environments on ${kind} hosts cannot be migrated live`);
      if (state !== "running") throw conflict(`The environment is ${state}; only a running environment can be migrated live`);
      return;
    case "move":
      if (!driver.capabilities.coldMove || !driver.migrate) throw conflict(`Environments on ${kind} hosts cannot be moved`);
      if (state !== "running" && state !== "stopped") throw conflict(`The environment is ${state}; it cannot be moved now`);
      return;
    case "snapshot":
    case "revert":
    case "delete_snapshot":
      if (!driver.capabilities.snapshots || !driver.takeSnapshot || !driver.revertSnapshot || !driver.deleteSnapshot) {
        throw conflict(`Environments on ${kind} hosts have no snapshots in this version`);
      }
      if (state !== "running" && state !== "stopped") throw conflict(`The environment is ${state}; wait until it is running or stopped`);
      return;
    case "resize":
      if (!driver.capabilities.resize || !driver.resize) throw conflict(`Environments on ${kind} hosts cannot be resized in this version`);
      if (state !== "running" && state !== "stopped") throw conflict(`The environment is ${state}; wait until it is running or stopped`);
    case "backup":
      if (state !== "running" && state !== "stopped") throw conflict(`The environment is ${state}; only a running or stopped environment can be backed up`);
      return;
    case "restore":
      if (state !== "running" && state !== "stopped" && state !== "error") throw conflict(`The environment is ${state}; it cannot be restored now`);
      return;
    case "verify":
      if (state !== "running" && state !== "stopped" && state !== "error") throw conflict(`The environment is ${state}; its backups cannot be verified now`);
      return;
    case "credentials":
      if (!driver.runGuestHook) throw conflict(`Passwords of environments on ${kind} hosts cannot be changed from the portal in this version`);
      if (state !== "running") throw conflict(`The environment is ${state}; start it first: the new password is set inside the running guest`);
      return;
  }
}

/** Enqueues the action's job; if Redis is down now the reconciler enqueues it later. */
export async function dispatchAction(actionId: string): Promise<boolean> {
  return enqueueOrLeave(`action ${actionId}`, () => enqueueLifecycle({ actionId }));
}

/** Sets the state an action reached, unless the environment went on meanwhile (being destroyed). */
export async function setEnvironmentState(db: Db, ctx: ActionContext, state: typeof environments.$inferSelect.state) {
  await db
    .update(environments)
    .set({ state })
    .where(and(eq(environments.id, ctx.action.environmentId), inArray(environments.state, ["running", "stopped", "error"])));
}

/** Start: the driver boots the guest again from its disk and waits until it reports ready. */
export const startEnvironment: ActionHandler = async (db, ctx, io) => {
  await ctx.driver.start!(ctx.spec, io);
  await setEnvironmentState(db, ctx, "running");
};

/**
 * Stop: orderly shutdown (ACPI), forced after a timeout; the disk and addresses stay. The
 * owner is told when someone else (an admin) stopped it, in the commit that records it.
 */
export const stopEnvironment: ActionHandler = async (db, ctx, io) => {
  await ctx.driver.stop!(ctx.spec, io);
  const mailIds = await db.transaction(async (tx) => {
    const stopped = await tx
      .update(environments)
      .set({ state: "stopped" })
      .where(and(eq(environments.id, ctx.action.environmentId), inArray(environments.state, ["running", "error"])))
      .returning({ id: environments.id });
    return stopped.length ? recordOrderEvent(tx, { kind: "environment.stopped", orderId: ctx.spec.orderId, actorId: ctx.action.requestedBy }) : [];
  });
  await dispatchMail(mailIds);
};

/** "handed": the environment's host belongs to another worker; the job is in that worker's queue. */
export type ActionOutcome = "succeeded" | "failed" | "skipped" | "handed";

/**
 * Runs an action from its row. Safe to call again for the same action (redelivery): a
 * finished action is skipped and handlers check what is already done.
 */
export async function executeAction(db: Db, actionId: string, handlers: ActionHandlers, signal: AbortSignal): Promise<ActionOutcome> {
  const [action] = await db.select().from(environmentActions).where(eq(environmentActions.id, actionId));
  if (!action || action.status === "succeeded" || action.status === "failed") return "skipped";
  const [env] = await db.select().from(environments).where(eq(environments.id, action.environmentId));
  const owner = await ownerOfOrder(db, env.orderId);
  if (owner && owner !== workerId) {
    // Only the host's owner may touch its guests: the action waits for it, saying so if it is offline.
    const state = await ownerState(db, owner);
    if (!state.live) await db.update(environmentActions).set({ note: waitingSentence(state) }).where(eq(environmentActions.id, actionId));
    await enqueueLifecycle({ actionId }, owner);
    await announce(env.orderId, "action");
    return "handed";
  }
  const [running] = await db
    .update(environmentActions)
    // The owner has it now: a "waiting for worker ..." note is over.
    .set({ status: "running", startedAt: action.startedAt ?? new Date(), error: null, ...(action.note?.startsWith("waiting for worker") ? { note: null } : {}) })
    .where(eq(environmentActions.id, actionId))
    .returning();
  await announce(env.orderId, "action");

  const io: MigrateIo = {
    signal,
    log: async (line) => {
      await db.update(environmentActions).set({ note: line.slice(0, 500) }).where(eq(environmentActions.id, actionId));
      await announce(env.orderId, "action");
    },
    progress: async (percent, note) => {
      await db
        .update(environmentActions)
        .set({ progress: Math.max(0, Math.min(100, Math.round(percent))), note: note.slice(0, 500) })
        .where(eq(environmentActions.id, actionId));
      await announce(env.orderId, "action");
    },
  };
  try {
    const handler = handlers[action.action];
    if (!handler) throw new StepError(`${labels[action.action]} is not available in this version of the portal`);
    const order = await loadOrderContext(db, env.orderId);
    if (!order.host) throw new StepError("the environment has no host");
    // Destroy was requested after this action: the teardown owns the guest now.
    if (order.order.status !== "ready") throw new StepError(`the order is ${order.order.status.replace("_", " ")}; the ${labels[action.action]} was not run`);
    const ctx: ActionContext = { action: running, order, spec: deploySpec(order), driver: driverFor(order.host.kind, db) };
    const result = await handler(db, ctx, io);
    await db
      .update(environmentActions)
      .set({ status: "succeeded", progress: 100, result: result ?? null, finishedAt: new Date() })
      .where(eq(environmentActions.id, actionId));
    await announce(env.orderId, "action");
    return "succeeded";
  } catch (err) {
    if (signal.aborted) throw err; // shutting down: the job is redelivered and resumes
    if (!(err instanceof StepError || err instanceof UserError)) throw err; // the queue retries
    await failAction(db, actionId, err.message);
    return "failed";
  }
}

/**
 * Marks an action failed with a message the customer may read, and puts the environment's
 * state back to what its host says (a failed stop leaves it running, a failed start stopped).
 */
export async function failAction(db: Db, actionId: string, message: string): Promise<void> {
  const [action] = await db
    .update(environmentActions)
    .set({ status: "failed", error: message, finishedAt: new Date() })
    .where(and(eq(environmentActions.id, actionId), inArray(environmentActions.status, busy)))
    .returning();
  if (!action) return;
  if (action.serviceIpMoveId) {
    await db
      .update(serviceIpMoves)
      .set({ status: "failed", error: message.slice(0, 500), finishedAt: new Date() })
      .where(and(eq(serviceIpMoves.id, action.serviceIpMoveId), inArray(serviceIpMoves.status, ["queued", "running"])));
  }
  // A snapshot that could not be taken is marked so; one that could not be deleted stays usable.
  if (action.snapshotId && action.action === "snapshot") await db.update(snapshots).set({ status: "failed" }).where(eq(snapshots.id, action.snapshotId));
  if (action.snapshotId && action.action === "delete_snapshot") {
    await db.update(snapshots).set({ status: "ready" }).where(and(eq(snapshots.id, action.snapshotId), eq(snapshots.status, "deleting")));
  }
  const [env] = await db.select().from(environments).where(eq(environments.id, action.environmentId));
  try {
    const order = await loadOrderContext(db, env.orderId);
    const driver = order.host ? driverFor(order.host.kind, db) : null;
    if (driver?.status && order.host) {
      const seen = await driver.status(deploySpec(order));
      const state = seen === "running" ? "running" : seen === "stopped" ? "stopped" : "error";
      await db.update(environments).set({ state }).where(and(eq(environments.id, env.id), inArray(environments.state, ["running", "stopped", "migrating", "error"])));
    }
  } catch (err) {
    console.error(`[lifecycle] could not read the state of environment ${env.id} after a failed action:`, (err as Error).message);
  }
  await announce(env.orderId, "action");
}
