import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, snapshots } from "../db/schema";
import type { Actor } from "../auth/actor";
import { orderForActor } from "../orders/queries";
import { snapshotsOf, type SnapshotView } from "../orders/day2-history";
import { StepError } from "../drivers/types";
import { conflict, notFound, UserError } from "../errors";
import { isUuid } from "../validation/ids";
import { requestAction, setEnvironmentState, type ActionHandler } from "./actions";

/** How many snapshots an environment keeps at most: each one holds on to changed disk blocks. */
export const MAX_SNAPSHOTS = 10;

/** The host-side name: from the id only, so nothing the user typed reaches a command. */
function tagFor(id: string): string {
  return `portal-${id.replace(/-/g, "").slice(0, 16)}`;
}

/** The environment's snapshots that exist or are being made, oldest first; who may see the order may see them. */
export async function listSnapshots(db: Db, actor: Actor, environmentId: string): Promise<SnapshotView[]> {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw notFound("Environment");
  await orderForActor(db, actor, env.orderId).catch((err) => {
    throw err instanceof UserError && err.status === 404 ? notFound("Environment") : err;
  });
  return snapshotsOf(db, environmentId);
}

/** Takes a snapshot named `name` (unique among the environment's snapshots); owner or admin; 202 with the action. */
export function requestSnapshot(db: Db, actor: Actor, environmentId: string, name: string) {
  return requestAction(db, actor, environmentId, "snapshot", {
    prepare: async (tx, env) => {
      const live = await tx
        .select({ name: snapshots.name })
        .from(snapshots)
        .where(and(eq(snapshots.environmentId, env.id), inArray(snapshots.status, ["creating", "ready", "deleting"])));
      if (live.some((s) => s.name === name)) throw conflict(`A snapshot named "${name}" exists already`, "name");
      if (live.length >= MAX_SNAPSHOTS) throw conflict(`This environment has ${live.length} snapshots, the most it may keep; delete one first`);
      const id = randomUUID();
      await tx.insert(snapshots).values({ id, environmentId: env.id, name, tag: tagFor(id), createdBy: actor.id });
      return { snapshotId: id, audit: { snapshot: id, name } };
    },
  });
}

/** Loads the environment's snapshot for an action, 404 when it is not this environment's. */
async function snapshotOf(tx: Db, environmentId: string, snapshotId: string) {
  if (!isUuid(snapshotId)) throw notFound("Snapshot");
  const [snap] = await tx.select().from(snapshots).where(and(eq(snapshots.id, snapshotId), eq(snapshots.environmentId, environmentId)));
  if (!snap || snap.status === "deleted") throw notFound("Snapshot");
  return snap;
}

/** Puts the environment back to a ready snapshot; name, addresses and MACs stay. */
export function requestRevert(db: Db, actor: Actor, environmentId: string, snapshotId: string) {
  return requestAction(db, actor, environmentId, "revert", {
    prepare: async (tx, env) => {
      const snap = await snapshotOf(tx, env.id, snapshotId);
      if (snap.status !== "ready") throw conflict(`Snapshot "${snap.name}" is ${snap.status}; only a ready snapshot can be reverted to`);
      return { snapshotId: snap.id, audit: { snapshot: snap.id, name: snap.name } };
    },
  });
}

/** Deletes a snapshot (a failed one too, so the list can be tidied). */
export function requestSnapshotDeletion(db: Db, actor: Actor, environmentId: string, snapshotId: string) {
  return requestAction(db, actor, environmentId, "delete_snapshot", {
    prepare: async (tx, env) => {
      const snap = await snapshotOf(tx, env.id, snapshotId);
      if (snap.status !== "ready" && snap.status !== "failed") throw conflict(`Snapshot "${snap.name}" is ${snap.status}; wait until it is ready`);
      return { snapshotId: snap.id, audit: { snapshot: snap.id, name: snap.name } };
    },
  });
}

async function actionSnapshot(db: Db, snapshotId: string | null) {
  if (!snapshotId) throw new StepError("the action names no snapshot");
  const [snap] = await db.select().from(snapshots).where(eq(snapshots.id, snapshotId));
  if (!snap) throw new StepError("the snapshot is gone");
  return snap;
}

/** The driver takes the snapshot under its tag (idempotent by tag), then the row is ready. */
export const takeSnapshot: ActionHandler = async (db, ctx, io) => {
  const snap = await actionSnapshot(db, ctx.action.snapshotId);
  const taken = await ctx.driver.takeSnapshot!(ctx.spec, snap.tag, io);
  await db.update(snapshots).set({ status: "ready", withMemory: taken.withMemory, sizeBytes: taken.sizeBytes }).where(eq(snapshots.id, snap.id));
  return { snapshot: snap.name, withMemory: taken.withMemory };
};

/** Reverts; the environment is running or stopped afterwards as the driver says. */
export const revertSnapshot: ActionHandler = async (db, ctx, io) => {
  const snap = await actionSnapshot(db, ctx.action.snapshotId);
  if (snap.status !== "ready") throw new StepError(`snapshot "${snap.name}" is ${snap.status}`);
  const { running } = await ctx.driver.revertSnapshot!(ctx.spec, { tag: snap.tag, withMemory: snap.withMemory }, io);
  await setEnvironmentState(db, ctx, running ? "running" : "stopped");
  return { snapshot: snap.name, running };
};

export const deleteSnapshot: ActionHandler = async (db, ctx, io) => {
  const snap = await actionSnapshot(db, ctx.action.snapshotId);
  await db.update(snapshots).set({ status: "deleting" }).where(eq(snapshots.id, snap.id));
  await ctx.driver.deleteSnapshot!(ctx.spec, { tag: snap.tag, withMemory: snap.withMemory }, io);
  await db.update(snapshots).set({ status: "deleted", deletedAt: new Date() }).where(eq(snapshots.id, snap.id));
  return { snapshot: snap.name };
};
