import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, orders } from "../db/schema";
import type { Actor } from "../auth/actor";
import { orderForActor } from "../orders/queries";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { announce } from "../pipeline/events";
import { createRebuildRun, dispatchRun } from "../pipeline/runs";
import { refuseWhileBusy } from "./actions";

/**
 * Reinstall: the environment is rebuilt from the current golden image of its catalog image
 * through the deploy pipeline (the same rebuild as a course machine's reset), keeping its
 * name, host, addresses and MACs. Its disk is built again, so what was written on it is gone
 * (this version does not keep a data filesystem across a reinstall). Owner or admin; the
 * order page follows the run like a delivery. 409 while another action runs or the order is
 * not delivered.
 */
export async function requestReinstall(db: Db, actor: Actor, environmentId: string) {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw notFound("Environment");
  const order = await orderForActor(db, actor, env.orderId).catch((err) => {
    throw err instanceof UserError && err.status === 404 ? notFound("Environment") : err;
  });
  if (actor.role !== "admin" && order.userId !== actor.id) throw forbidden("Only the customer who ordered it or an admin can do that");
  const run = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(environments).where(eq(environments.id, environmentId)).for("update");
    await refuseWhileBusy(tx, environmentId);
    if (current.state !== "running" && current.state !== "stopped" && current.state !== "error") {
      throw conflict(`The environment is ${current.state}; wait until it is running or stopped`);
    }
    const rebuild = await createRebuildRun(tx, env.orderId, `reinstall from the image by ${actor.email}: rebuilding`);
    if (!rebuild) {
      const [o] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, env.orderId));
      throw conflict(`The order is ${o.status.replace("_", " ")}; only a delivered environment can be reinstalled`);
    }
    return rebuild;
  });
  await writeAudit(db, { actorId: actor.id, action: "environment.reinstall", targetType: "environment", targetId: environmentId, data: { order: env.orderId, run: run.id } });
  await announce(env.orderId, "reinstall");
  await dispatchRun(run);
  return { orderId: env.orderId, environmentId, runId: run.id, status: "queued" as const };
}
