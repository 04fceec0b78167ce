import { setTimeout as sleep } from "node:timers/promises";
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { lockForTransaction } from "../db/locks";
import { environmentActions, environments, evacuationMoves, evacuations, hosts, orders, type Evacuation, type EvacuationMove, type EvacuationMoveResult } from "../db/schema";
import { writeAudit } from "../audit/write";
import { dispatchAction } from "../lifecycle/actions";
import { dispatchMail } from "../mail/outbox";
import { recordOrderEvent } from "../notifications/order-events";
import { announce } from "../pipeline/events";
import { driverFor } from "../pipeline/drivers";
import { hostPoolOf } from "../policy/groups";
import { announceEvacuation } from "./events";
import { chooseTarget, howItMoves } from "./moves";
import { STOPPED_BEFORE_START } from "./evacuate";

/** How often the runner looks at its moves' actions (the moves themselves run as lifecycle jobs). */
const POLL_MS = 250;

const actionLabels: Record<string, string> = {
  start: "start", stop: "stop", migrate: "live migration", move: "cold move", snapshot: "snapshot", revert: "revert",
  delete_snapshot: "snapshot deletion", resize: "resize", backup: "backup", restore: "restore", verify: "backup verification",
};

type Started = { kind: "started"; actionId: string; orderId: string; environmentId: string; action: "migrate" | "move"; targetHostId: string; mails: string[] };
type StartOutcome = Started | { kind: "settled" } | { kind: "waiting" };

/**
 * Runs a batch of moves (host evacuation or rebalance) until every move has ended, from the
 * rows alone: moves under way are followed through their lifecycle actions, pending ones are
 * started while fewer than `parallel` run. Called again for the same batch (a worker restarted)
 * it carries on where the rows are. Returns "interrupted" when `signal` aborts (the worker is
 * stopping; the moves themselves go on as lifecycle jobs).
 */
export async function runEvacuation(db: Db, evacuationId: string, signal: AbortSignal, opts: { pollMs?: number } = {}): Promise<"completed" | "incomplete" | "interrupted"> {
  const seen = new Map<string, string>();
  for (;;) {
    if (signal.aborted) return "interrupted";
    const [ev] = await db.select().from(evacuations).where(eq(evacuations.id, evacuationId));
    if (!ev) throw new Error(`evacuation ${evacuationId} does not exist`);
    if (ev.status !== "running") return ev.status;
    let changed = await followMoves(db, evacuationId, seen);
    const moves = await db.select().from(evacuationMoves).where(eq(evacuationMoves.evacuationId, evacuationId)).orderBy(asc(evacuationMoves.position));
    let active = moves.filter((m) => m.status === "moving").length;
    for (const move of moves.filter((m) => m.status === "pending")) {
      if (active >= ev.parallel || signal.aborted) break;
      const outcome = await startMove(db, ev, move);
      if (outcome.kind === "started") {
        active++;
        await afterStart(db, ev, outcome);
      }
      if (outcome.kind !== "waiting") changed = true;
    }
    const left = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(evacuationMoves)
      .where(and(eq(evacuationMoves.evacuationId, evacuationId), inArray(evacuationMoves.status, ["pending", "moving"])));
    if (left[0]!.n === 0) {
      const status = await finish(db, ev);
      await announceEvacuation(evacuationId);
      return status;
    }
    if (changed) await announceEvacuation(evacuationId);
    try {
      await sleep(opts.pollMs ?? POLL_MS, undefined, { signal });
    } catch {
      return "interrupted";
    }
  }
}

/** Records the end of moves whose action ended; says whether anything the page shows changed (progress included). */
async function followMoves(db: Db, evacuationId: string, seen: Map<string, string>): Promise<boolean> {
  const rows = await db
    .select({ move: evacuationMoves, action: environmentActions })
    .from(evacuationMoves)
    .leftJoin(environmentActions, eq(environmentActions.id, evacuationMoves.actionId))
    .where(and(eq(evacuationMoves.evacuationId, evacuationId), eq(evacuationMoves.status, "moving")));
  let changed = false;
  for (const { move, action } of rows) {
    if (!action) {
      await settle(db, move.id, "failed", { reason: "its move was lost before it started; evacuate again" });
      changed = true;
    } else if (action.status === "succeeded") {
      const r = (action.result ?? {}) as Partial<EvacuationMoveResult>;
      const result: EvacuationMoveResult = { totalMs: r.totalMs ?? 0, downtimeMs: r.downtimeMs ?? null, transferredBytes: r.transferredBytes ?? null };
      await settle(db, move.id, "moved", { result, finishedAt: action.finishedAt ?? new Date() });
      changed = true;
    } else if (action.status === "failed") {
      await settle(db, move.id, "failed", { reason: action.error ?? "the move failed", finishedAt: action.finishedAt ?? new Date() });
      changed = true;
    } else {
      const now = `${action.status}|${action.progress}|${action.note ?? ""}`;
      if (seen.get(move.id) !== now) changed = true;
      seen.set(move.id, now);
    }
  }
  return changed;
}

async function settle(
  db: Db,
  moveId: string,
  status: "moved" | "failed",
  set: { reason?: string | null; result?: EvacuationMoveResult; finishedAt?: Date; targetHostId?: string },
): Promise<void> {
  await db
    .update(evacuationMoves)
    .set({ status, reason: set.reason ?? null, finishedAt: set.finishedAt ?? new Date(), ...(set.result ? { result: set.result } : {}), ...(set.targetHostId ? { targetHostId: set.targetHostId } : {}) })
    .where(and(eq(evacuationMoves.id, moveId), inArray(evacuationMoves.status, ["pending", "moving"])));
}

/**
 * Starts one pending move, in one commit with the fleetMoves lock held: checks the environment
 * is still on the source and free (else it waits for its running action), decides how it moves
 * and where (./moves.ts), tells its owner first when the move takes it down, and writes the
 * lifecycle action (migrate or move) the lifecycle queue runs. A move that cannot happen is
 * recorded as failed with the reason.
 */
async function startMove(db: Db, ev: Evacuation, move: EvacuationMove): Promise<StartOutcome> {
  return db.transaction(async (tx): Promise<StartOutcome> => {
    await lockForTransaction(tx, "fleetMoves");
    // Under the lock: a second runner of the same batch (a job taken over while its first
    // worker still ran) finds the move started already.
    const [still] = await tx.select({ status: evacuationMoves.status }).from(evacuationMoves).where(eq(evacuationMoves.id, move.id));
    if (still?.status !== "pending") return { kind: "settled" };
    const fail = async (reason: string) => {
      await settle(tx, move.id, "failed", { reason });
      return { kind: "settled" } as const;
    };
    const [env] = await tx.select().from(environments).where(eq(environments.id, move.environmentId)).for("update");
    if (!env || env.state === "deleted") {
      await settle(tx, move.id, "moved", { reason: "destroyed meanwhile: nothing left to move" });
      return { kind: "settled" };
    }
    if (env.hostId !== move.fromHostId) {
      const [now] = await tx.select({ name: hosts.name }).from(hosts).where(eq(hosts.id, env.hostId));
      await settle(tx, move.id, "moved", { reason: `moved to ${now?.name ?? "another host"} meanwhile by another action`, targetHostId: env.hostId });
      return { kind: "settled" };
    }
    const [busy] = await tx
      .select({ action: environmentActions.action, status: environmentActions.status })
      .from(environmentActions)
      .where(and(eq(environmentActions.environmentId, env.id), inArray(environmentActions.status, ["queued", "running"])))
      .limit(1);
    if (busy) {
      const reason = `waiting for its ${actionLabels[busy.action] ?? busy.action} (${busy.status}) to end`;
      if (move.reason !== reason) await tx.update(evacuationMoves).set({ reason }).where(eq(evacuationMoves.id, move.id));
      return { kind: "waiting" };
    }
    const [order] = await tx.select({ status: orders.status, groupId: orders.groupId }).from(orders).where(eq(orders.id, env.orderId));
    if (order!.status !== "ready") return fail(`its order is ${order!.status.replace("_", " ")}; only a delivered environment is moved`);
    const [from] = await tx.select().from(hosts).where(eq(hosts.id, move.fromHostId));
    const how = howItMoves(driverFor(from!.kind, tx), from!, env.state);
    if ("refusal" in how) return fail(how.refusal);
    const choice = await chooseTarget(tx, from!, env, { pool: await hostPoolOf(tx, order!.groupId), fixed: ev.kind === "rebalance" ? move.targetHostId : null });
    if ("refusal" in choice) return fail(choice.refusal);
    const { target } = choice;
    const why = ev.kind === "evacuate" ? `maintenance of ${from!.name}` : `rebalancing memory use across ${from!.kind} hosts`;
    const mails = how.notifyOwner
      ? await recordOrderEvent(tx, {
          kind: "environment.moving", orderId: env.orderId, actorId: ev.requestedBy, from: from!.name, to: target.name,
          detail: `${why}; a cold move halts it, copies it and boots it on ${target.name}, so it is down meanwhile`,
        })
      : [];
    const [action] = await tx
      .insert(environmentActions)
      .values({ environmentId: env.id, action: how.action, requestedBy: ev.requestedBy, fromHostId: from!.id, targetHostId: target.id, note: `${why} (${choice.reason})`.slice(0, 500) })
      .returning({ id: environmentActions.id });
    await tx
      .update(evacuationMoves)
      .set({ status: "moving", actionId: action!.id, targetHostId: target.id, mode: how.mode, reason: null, startedAt: new Date() })
      .where(eq(evacuationMoves.id, move.id));
    return { kind: "started", actionId: action!.id, orderId: env.orderId, environmentId: env.id, action: how.action, targetHostId: target.id, mails };
  });
}

/** After a move's commit: its audit event, the owner's e-mail, its job. */
async function afterStart(db: Db, ev: Evacuation, s: Started): Promise<void> {
  await writeAudit(db, {
    actorId: ev.requestedBy, action: `environment.${s.action}`, targetType: "environment", targetId: s.environmentId,
    data: { action: s.actionId, order: s.orderId, targetHostId: s.targetHostId, evacuation: ev.id, why: ev.kind },
  });
  await dispatchMail(s.mails);
  await dispatchAction(s.actionId);
  await announce(s.orderId, "action");
}

/**
 * Every move has ended: an evacuated host with nothing left on it goes offline; otherwise it
 * stays draining and the outcome says what could not move. Audited (host.evacuated,
 * hosts.rebalanced) with the outcome.
 */
async function finish(db: Db, ev: Evacuation): Promise<"completed" | "incomplete"> {
  const moves = await db.select({ status: evacuationMoves.status, reason: evacuationMoves.reason }).from(evacuationMoves).where(eq(evacuationMoves.evacuationId, ev.id));
  const failed = moves.filter((m) => m.status === "failed").length;
  const stopped = moves.filter((m) => m.status === "failed" && m.reason?.startsWith(STOPPED_BEFORE_START)).length;
  const total = moves.length;
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  let status: "completed" | "incomplete";
  let outcome: string;
  let hostChange: { before: string; after: string } | null = null;
  if (ev.kind === "evacuate" && ev.hostId) {
    const [host] = await db.select({ name: hosts.name, state: hosts.state }).from(hosts).where(eq(hosts.id, ev.hostId));
    const [{ n: remaining }] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(environments)
      .where(and(eq(environments.hostId, ev.hostId), ne(environments.state, "deleted")));
    if (failed === 0 && remaining === 0) {
      const [off] = await db.update(hosts).set({ state: "offline" }).where(and(eq(hosts.id, ev.hostId), eq(hosts.state, "draining"))).returning({ id: hosts.id });
      if (off) hostChange = { before: "draining", after: "offline" };
      status = "completed";
      outcome = off
        ? `${host!.name} is offline and holds no environment (${plural(total, "environment")} moved)`
        : `${host!.name} holds no environment (${plural(total, "environment")} moved); it was set ${host!.state} meanwhile, so it was left so`;
    } else {
      status = "incomplete";
      const why = stopped
        ? `the evacuation was stopped; ${plural(stopped, "environment")} stayed${failed > stopped ? `, ${failed - stopped} could not move (each says why)` : ""}`
        : failed ? `${failed} of ${plural(total, "environment")} could not move (each says why)` : `${plural(remaining, "environment")} arrived on it meanwhile`;
      outcome = `${host!.name} stays ${host!.state}: ${why}`;
    }
  } else {
    status = failed === 0 ? "completed" : "incomplete";
    outcome = failed === 0
      ? `${plural(total, "move")} done`
      : stopped
        ? `stopped: ${total - failed} of ${plural(total, "move")} done, ${stopped} not started${failed > stopped ? `, ${failed - stopped} could not run (each says why)` : ""}`
        : `${total - failed} of ${plural(total, "move")} done; ${failed} could not run (each says why)`;
  }
  const [done] = await db
    .update(evacuations)
    .set({ status, outcome, finishedAt: new Date() })
    .where(and(eq(evacuations.id, ev.id), eq(evacuations.status, "running")))
    .returning({ id: evacuations.id });
  if (done) {
    await writeAudit(db, {
      actorId: null,
      action: ev.kind === "evacuate" ? "host.evacuated" : "hosts.rebalanced",
      targetType: ev.kind === "evacuate" ? "host" : "hosts",
      targetId: ev.hostId ?? ev.hostKind,
      data: { evacuation: ev.id, requestedBy: ev.requestedBy, status, outcome, moves: total, failed },
      ...(hostChange ? { before: { state: hostChange.before }, after: { state: hostChange.after } } : {}),
    });
  }
  return status;
}
