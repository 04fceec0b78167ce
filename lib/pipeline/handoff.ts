import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts, pipelineRuns, type HostKind } from "../db/schema";
import { supportedHostKinds } from "../drivers";
import { StepError } from "../drivers/types";
import { enqueueRun } from "../jobs/queues";
import { candidateHosts } from "../policy/placement";
import { hostPoolOf } from "../policy/groups";
import { ownerOfOrder } from "../workers/routing";
import { ownerState, waitingSentence } from "../workers/registry";
import { loadOrderContext } from "./context";
import { announce } from "./events";

/**
 * Which worker must run a run (lib/workers/routing.ts): the owner of the host it is placed on,
 * or for a provision run not placed yet, the owner of all its candidate hosts; null: any worker.
 */
export async function ownerOfRun(db: Db, run: { orderId: string; kind: string }): Promise<string | null> {
  return (await ownerOfOrder(db, run.orderId)) ?? (run.kind === "provision" ? soleOwnerOfCandidates(db, run.orderId) : null);
}

/**
 * A run not placed yet whose every candidate host belongs to one worker goes to that worker
 * before its first step; with candidates of several owners (or none) it starts anywhere and
 * moves to the owner of the host it is placed on.
 */
async function soleOwnerOfCandidates(db: Db, orderId: string): Promise<string | null> {
  const ctx = await loadOrderContext(db, orderId);
  if (ctx.environment) return null;
  const kinds = ctx.image.hostKinds.filter((k): k is HostKind => supportedHostKinds.includes(k as HostKind));
  if (kinds.length === 0) return null;
  // No candidate at all (every host drained or full): the place step says so, on any worker.
  const candidates = await candidateHosts(db, kinds, { pool: await hostPoolOf(db, ctx.order.groupId), lock: false }).catch((err: unknown) => {
    if (err instanceof StepError) return [];
    throw err;
  });
  const ids = candidates.map((c) => c.id);
  if (ids.length === 0) return null;
  const owners = new Set((await db.select({ owner: hosts.ownerWorker }).from(hosts).where(inArray(hosts.id, ids))).map((h) => h.owner));
  return owners.size === 1 ? [...owners][0] : null;
}

/**
 * Puts the run in the queue of the worker that owns its host. If that worker is offline, the
 * run says so ("waiting for worker X (offline since T)") and waits for it instead of failing.
 */
export async function handOff(db: Db, run: { id: string; orderId: string; attempt: number }, owner: string): Promise<"handed"> {
  const state = await ownerState(db, owner);
  await db
    .update(pipelineRuns)
    .set({ waitingFor: state.live ? null : waitingSentence(state) })
    .where(and(eq(pipelineRuns.id, run.id), sql`${pipelineRuns.status} in ('queued', 'running')`));
  await enqueueRun({ runId: run.id, attempt: run.attempt, owner });
  await announce(run.orderId, "run");
  console.log(`[worker] run ${run.id}: its host belongs to worker ${owner}${state.live ? "" : " (offline)"}; handed over to it`);
  return "handed";
}

