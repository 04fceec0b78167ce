import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { environmentActions, environments, hosts, orders } from "../db/schema";
import { driverFor } from "../pipeline/drivers";
import { StepError, type MigrationResult } from "../drivers/types";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { CPU_OVERCOMMIT, usageOfHost } from "../policy/placement";
import { LOCAL_HOST } from "../hosts/input";
import { requestAction, type ActionHandler } from "./actions";
import { isUuid } from "../validation/ids";
import { recordOrderEvent } from "../notifications/order-events";
import { dispatchMail } from "../mail/outbox";


type HostRow = typeof hosts.$inferSelect;

/**
 * Where an environment may move: another active host of the same kind whose driver can
 * take a running guest, with room for it. Every refusal says why (409), naming the host.
 * `hostRef` is a host id or name.
 */
export async function migrationTarget(db: Db, environmentId: string, hostRef: string, opts: { cold?: boolean } = {}): Promise<{ target: HostRow; mode: "live" | "cold" }> {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw notFound("Environment");
  const [target] = await db.select().from(hosts).where(isUuid(hostRef) ? eq(hosts.id, hostRef) : eq(hosts.name, hostRef));
  if (!target) throw new UserError(`No host ${hostRef}`, 422, { host: [`No host named ${hostRef}`] });
  const [current] = await db.select().from(hosts).where(eq(hosts.id, env.hostId));
  if (target.id === current!.id) throw conflict(`The environment already runs on ${target.name}`, "host");
  if (target.state !== "active") throw conflict(`${target.name} is ${target.state}: it takes no environments now`, "host");
  if (target.kind !== current!.kind) {
    throw conflict(`${target.name} is a ${target.kind} host; an environment on ${current!.kind} host ${current!.name} can move only to another ${current!.kind} host`, "host");
  }
  if (current!.kind === "qemu") {
    // The QEMU driver moves guests over shared storage and one loopback: hosts of this machine only.
    const remote = [current!, target].filter((h) => h.address !== LOCAL_HOST);
    if (remote.length) {
      throw conflict(
        `Live migration of QEMU guests runs between hosts of the portal's own machine (address local) in this version; ${remote.map((h) => `${h.name} is reached over SSH`).join(" and ")}`,
        "host",
      );
    }
  }
  const driver = driverFor(current!.kind, db);
  const live = driver.capabilities.liveMigration && !!driver.migrate;
  const cold = !live && driver.capabilities.coldMove && !!driver.migrate;
  if (!live && !cold) {
    throw conflict(
      driver.capabilities.liveMigration
        ? `Live migration of environments on ${current!.kind} hosts is not available in this version of the portal`
        : `Environments on ${current!.kind} hosts cannot be moved to another host`,
      "host",
    );
  }
  if (cold && !opts.cold) {
    throw conflict(
      `Environments on ${current!.kind} hosts cannot be migrated live; they offer only a cold move (stopped, copied, started again on ${target.name}): ask again with "cold": true to accept the downtime`,
      "host",
    );
  }
  await refuseWithoutRoom(db, target, env);
  return { target, mode: live ? "live" : "cold" };
}

/**
 * 409 when `target` has no room for the environment: what its environments use, moves already
 * heading there included (usageOfHosts).
 */
async function refuseWithoutRoom(db: Db, target: HostRow, env: { vcpus: number; memoryMb: number; diskGb: number }): Promise<void> {
  const used = await usageOfHost(db, target.id);
  const free = {
    memoryMb: target.memoryMbCapacity - used.memoryMb,
    vcpus: target.cpuCapacity * CPU_OVERCOMMIT - used.vcpus,
    diskGb: target.diskGbCapacity - used.diskGb,
  };
  if (free.memoryMb < env.memoryMb || free.vcpus < env.vcpus || free.diskGb < env.diskGb) {
    throw conflict(
      `${target.name} has no room for ${env.vcpus} vCPUs, ${env.memoryMb} MiB and ${env.diskGb} GiB (free: ${free.vcpus} vCPUs, ${free.memoryMb} MiB, ${free.diskGb} GiB)`,
      "host",
    );
  }
}

/**
 * An admin asks to move a running environment to another host while it keeps running.
 * Validates the target (see migrationTarget), then queues the `migrate` action (one action
 * at a time per environment, audited). 202 with the action.
 */
export async function requestMigration(db: Db, actor: Actor, environmentId: string, hostRef: string, opts: { cold?: boolean } = {}) {
  if (actor.role !== "admin") throw forbidden("Only an admin can move an environment to another host");
  const { target, mode } = await migrationTarget(db, environmentId, hostRef, opts);
  // A live migration is a "migrate" action; a cold move (zones: detach, send, attach) a "move".
  // Checked again with the target's row locked, in the transaction that records the move: a
  // placement or another move choosing this host meanwhile waits, then sees this one's room taken.
  const action = await requestAction(db, actor, environmentId, mode === "live" ? "migrate" : "move", {
    targetHostId: target.id,
    prepare: async (tx, env) => {
      const [locked] = await tx.select().from(hosts).where(eq(hosts.id, target.id)).for("update");
      if (!locked || locked.state !== "active") throw conflict(`${target.name} is ${locked?.state ?? "gone"}: it takes no environments now`, "host");
      await refuseWithoutRoom(tx, locked, env);
      return {};
    },
  });
  return { ...action, mode, targetHost: { id: target.id, name: target.name } };
}

/** What a finished migration stored on its action (shown on the order page). */
export type MigrationRecord = MigrationResult & { from: string; to: string };

/**
 * The `migrate` action: environment state "migrating" while the driver moves the guest,
 * then, in one transaction, the new host and "running". Addresses, MACs and service IPs
 * are the environment's, not the host's: they stay. On failure the driver leaves the guest
 * running where it was, and the action fails with the driver's reason (the environment's
 * state is read back from the host).
 */
export const migrateEnvironment: ActionHandler = async (db, ctx, io) => {
  const { action, spec, driver } = ctx;
  if (!action.targetHostId) throw new StepError("The migration has no target host");
  const [target] = await db.select().from(hosts).where(eq(hosts.id, action.targetHostId));
  if (!target) throw new StepError("The target host no longer exists");
  if (spec.host.id === target.id) {
    // A redelivered job after the switch was recorded: the move is done.
    await io.log(`the environment already runs on ${target.name}`);
    return (action.result as MigrationRecord | null) ?? undefined;
  }
  // A stopped guest moves cold where the kind can (its disk and configuration) and stays stopped.
  const [current] = await db.select({ state: environments.state }).from(environments).where(eq(environments.id, action.environmentId));
  const stopped = action.action === "move" && (current?.state === "stopped" || (current?.state === "migrating" && (action.result as { stopped?: boolean } | null)?.stopped === true));
  const move = stopped ? driver.moveStopped : driver.migrate;
  if (!move) throw new StepError(stopped ? `Stopped environments on ${spec.host.kind} hosts cannot be moved in this version` : `Environments on ${spec.host.kind} hosts cannot be moved`);
  // Remembered on the action, so a redelivered job knows the guest was stopped while its state says "migrating".
  if (stopped) await db.update(environmentActions).set({ result: { stopped: true } }).where(eq(environmentActions.id, action.id));
  await db.update(environments).set({ state: "migrating" }).where(eq(environments.id, action.environmentId));
  await io.progress(0, `moving ${spec.hostname}${stopped ? " (stopped)" : ""} from ${spec.host.name} to ${target.name}`);
  let result: MigrationResult;
  try {
    result = await move.call(driver, spec, { id: target.id, name: target.name, kind: target.kind, address: target.address, config: target.config }, io);
  } catch (err) {
    // The driver leaves the guest where it was, as it was; a kind that can say how it is (status) is asked again when the action fails.
    if (!io.signal.aborted) {
      await db
        .update(environments)
        .set({ state: stopped ? "stopped" : "running" })
        .where(and(eq(environments.id, action.environmentId), eq(environments.state, "migrating"), eq(environments.hostId, spec.host.id)));
    }
    throw err;
  }
  const record: MigrationRecord = { ...result, from: spec.host.name, to: target.name };
  const downtime = result.downtimeMs === null ? "" : `, downtime ${result.downtimeMs} ms`;
  const mailIds = await db.transaction(async (tx) => {
    await tx
      .update(environments)
      .set({
        hostId: target.id,
        state: stopped ? "stopped" : "running",
        placement: `${target.name}: moved ${result.mode}${stopped ? " while stopped" : ""} from ${spec.host.name} by an admin (${result.totalMs} ms${downtime})`,
      })
      .where(eq(environments.id, action.environmentId));
    await tx.update(environmentActions).set({ result: record }).where(eq(environmentActions.id, action.id));
    await tx.update(orders).set({ updatedAt: new Date() }).where(eq(orders.id, spec.orderId));
    return recordOrderEvent(tx, {
      kind: "environment.moved", orderId: spec.orderId, actorId: action.requestedBy,
      from: spec.host.name, to: target.name, detail: `${result.mode === "live" ? "live migration" : "cold move"}, ${result.totalMs} ms${downtime}`,
    });
  });
  await dispatchMail(mailIds);
  await io.progress(100, `now on ${target.name}: ${result.mode} migration took ${result.totalMs} ms${downtime}`);
  return record;
};
