import { and, desc, eq, isNull, ne } from "drizzle-orm";
import { lockForTransaction } from "../db/locks";
import type { Db } from "../db/client";
import { environments, evacuationMoves, evacuations, hosts } from "../db/schema";
import type { Actor } from "../auth/actor";
import { writeAudit } from "../audit/write";
import { conflict, forbidden, notFound } from "../errors";
import { enqueueEvacuation, enqueueOrLeave } from "../jobs/queues";
import { announceEvacuation } from "./events";
import type { EvacuateInput } from "./input";
import { evacuationView, type EvacuationView } from "./queries";

/** Queues the batch's job; if Redis is down now the reconciler enqueues it later. */
export async function dispatchEvacuation(evacuationId: string): Promise<boolean> {
  return enqueueOrLeave(`evacuation ${evacuationId}`, () => enqueueEvacuation({ evacuationId }));
}

/**
 * "Evacuate" on a host (admins): in one commit the host goes draining (no new environments),
 * and every environment on it becomes a pending move of a new evacuation, largest memory first;
 * then the evacuation's job starts `parallel` moves at a time (./runner.ts). The host ends
 * offline once nothing is left on it, or stays draining with each environment that could not
 * move and why. One evacuation of a host at a time (409 while one runs). Audited as
 * host.evacuate with the host's state before and after.
 */
export async function requestEvacuation(db: Db, actor: Actor, hostId: string, input: EvacuateInput): Promise<EvacuationView> {
  if (actor.role !== "admin") throw forbidden("Only an admin can evacuate a host");
  const { id, before, count, name } = await db.transaction(async (tx) => {
    const [host] = await tx.select().from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt))).for("update");
    if (!host) throw notFound("Host");
    const [running] = await tx
      .select({ id: evacuations.id })
      .from(evacuations)
      .where(and(eq(evacuations.hostId, hostId), eq(evacuations.status, "running")))
      .limit(1);
    if (running) throw conflict(`An evacuation of ${host.name} is already running (${running.id}); follow it on the host's page`);
    const live = await tx
      .select({ id: environments.id })
      .from(environments)
      .where(and(eq(environments.hostId, hostId), ne(environments.state, "deleted")))
      .orderBy(desc(environments.memoryMb), environments.hostname);
    if (host.state !== "draining") await tx.update(hosts).set({ state: "draining" }).where(eq(hosts.id, hostId));
    const [created] = await tx
      .insert(evacuations)
      .values({ kind: "evacuate", hostId, hostKind: host.kind, parallel: input.parallel, requestedBy: actor.id })
      .returning({ id: evacuations.id });
    if (live.length) {
      await tx.insert(evacuationMoves).values(live.map((e, i) => ({ evacuationId: created!.id, position: i + 1, environmentId: e.id, fromHostId: hostId })));
    }
    return { id: created!.id, before: host.state, count: live.length, name: host.name };
  });
  await writeAudit(db, {
    actorId: actor.id,
    action: "host.evacuate",
    targetType: "host",
    targetId: hostId,
    data: { evacuation: id, name, parallel: input.parallel, environments: count },
    before: { state: before },
    after: { state: "draining" },
  });
  await dispatchEvacuation(id);
  await announceEvacuation(id);
  return evacuationView(db, id);
}

/** The reason a move that never started gives once its batch was stopped. */
export const STOPPED_BEFORE_START = "stopped before it started, by";

/**
 * "Stop" on a running evacuation or rebalance (admins): the moves that have not started stay
 * where they are (each says who stopped it); the ones under way finish, then the batch ends
 * "incomplete" and an evacuated host stays draining (an admin activates it again from its
 * page). Under the fleetMoves lock, so no move starts meanwhile. 409 once the batch has ended.
 * Audited as evacuation.stop.
 */
export async function stopEvacuation(db: Db, actor: Actor, evacuationId: string): Promise<EvacuationView> {
  if (actor.role !== "admin") throw forbidden("Only an admin can stop an evacuation or a rebalance");
  const stopped = await db.transaction(async (tx) => {
    await lockForTransaction(tx, "fleetMoves");
    const [ev] = await tx.select().from(evacuations).where(eq(evacuations.id, evacuationId)).for("update");
    if (!ev) throw notFound("Evacuation");
    if (ev.status !== "running") throw conflict(`The ${ev.kind === "evacuate" ? "evacuation" : "rebalance"} has ended (${ev.status}); there is nothing to stop`);
    return tx
      .update(evacuationMoves)
      .set({ status: "failed", reason: `${STOPPED_BEFORE_START} ${actor.email}`, finishedAt: new Date() })
      .where(and(eq(evacuationMoves.evacuationId, evacuationId), eq(evacuationMoves.status, "pending")))
      .returning({ id: evacuationMoves.id });
  });
  await writeAudit(db, {
    actorId: actor.id,
    action: "evacuation.stop",
    targetType: "evacuation",
    targetId: evacuationId,
    data: { movesStopped: stopped.length },
  });
  await announceEvacuation(evacuationId);
  return evacuationView(db, evacuationId);
}
