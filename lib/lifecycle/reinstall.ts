import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, hosts, orders } from "../db/schema";
import type { Actor } from "../auth/actor";
import { orderForActor } from "../orders/queries";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { announce } from "../pipeline/events";
import { createRebuildRun, dispatchRun } from "../pipeline/runs";
import { driverFor } from "../pipeline/drivers";
import { refuseWhileBusy } from "./actions";
import type { ReinstallInput } from "./input";

/**
 * Reinstall: the environment is rebuilt from the current golden image of its catalog image
 * through the deploy pipeline (the same rebuild as a course machine's reset), keeping its
 * name, host, addresses and MACs. Its disk is built again, so what was written on it is gone,
 * unless `keepData` asks to keep the data filesystem (/data): QEMU (the disk is /data, the root
 * is the image's initramfs), zones (/data is a ZFS dataset of its own, renamed aside while the
 * zone root is rebuilt) and Xen (the old root volume is set aside and /data copied onto the new
 * one: lib/drivers/xen/reinstall.ts); Xen and zones emulator-tested only. Owner or admin; the
 * order page follows the
 * run like a delivery. 409 while another action runs or the order is not delivered.
 */
export async function requestReinstall(db: Db, actor: Actor, environmentId: string, input: ReinstallInput = { keepData: false }) {
  const { keepData } = input;
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
    if (keepData) await refuseKeepData(tx, current.hostId);
    const reason = `reinstall from the image${keepData ? " keeping /data" : ""} by ${actor.email}: rebuilding`;
    const rebuild = await createRebuildRun(tx, env.orderId, reason, { keepData });
    if (!rebuild) {
      const [o] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, env.orderId));
      throw conflict(`The order is ${o.status.replace("_", " ")}; only a delivered environment can be reinstalled`);
    }
    return rebuild;
  });
  await writeAudit(db, { actorId: actor.id, action: "environment.reinstall", targetType: "environment", targetId: environmentId, data: { order: env.orderId, run: run.id, keepData } });
  await announce(env.orderId, "reinstall");
  await dispatchRun(run);
  return { orderId: env.orderId, environmentId, runId: run.id, status: "queued" as const };
}

/** 409 when the driver of the environment's host kind cannot keep /data (every driver can today; the order page hides the box where it cannot). */
async function refuseKeepData(db: Db, hostId: string) {
  const [host] = await db.select({ kind: hosts.kind }).from(hosts).where(eq(hosts.id, hostId));
  if (!driverFor(host.kind, db).capabilities.keepData) {
    throw conflict(`On ${host.kind} hosts a reinstall cannot keep /data in this version`);
  }
}
