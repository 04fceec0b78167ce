import { and, desc, eq, lte, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, ipAllocations, orders, pipelineRuns } from "../db/schema";
import { writeAudit } from "../audit/write";
import { env } from "../env";
import { announce } from "../pipeline/events";
import { createRun, dispatchRun } from "../pipeline/runs";
import { HOUR_MS } from "../time";

/**
 * A failed order keeps what a retry needs (its environment's place on a host, its addresses,
 * what the steps built there) for FAILED_HOLD_HOURS after it failed, so a retry resumes at the
 * failed step. After that the maintenance sweep releases them through the teardown path: the
 * order stays failed, and a retry starts again from choosing a host.
 */
export type FailedHold =
  /** Holding until `until`: a retry before then resumes at the failed step. */
  | { state: "holding"; until: string }
  /** The teardown that releases them is queued or running. */
  | { state: "releasing" }
  /** Released at `at`; a retry starts from choosing a host. */
  | { state: "released"; at: string | null }
  /** The release's teardown failed; retrying the order retries the teardown. */
  | { state: "release_failed"; error: string | null };

export function holdEnd(failedAt: Date, hours = env.FAILED_HOLD_HOURS): Date {
  return new Date(failedAt.getTime() + hours * HOUR_MS);
}

/** The order (a column or a value) still has an environment or addresses that a release would free. */
function holdsSomething(orderId: SQL | typeof orders.id) {
  return or(
    sql`exists (select 1 from ${environments} where ${environments.orderId} = ${orderId} and ${environments.state} <> 'deleted')`,
    sql`exists (select 1 from ${ipAllocations} where ${ipAllocations.orderId} = ${orderId})`,
  );
}

/** No run of the order was created after `run` (it is the order's latest). */
const isLatestRun = sql`not exists (select 1 from ${pipelineRuns} later where later.order_id = ${pipelineRuns.orderId} and later.created_at > ${pipelineRuns.createdAt})`;

/**
 * Where a failed order stands with what it holds, or null when it is not a failed delivery
 * (a failed teardown of a retiring order keeps its own retry) or holds nothing.
 */
export async function failedHoldOf(db: Db, orderId: string): Promise<FailedHold | null> {
  const runs = await db
    .select({ kind: pipelineRuns.kind, status: pipelineRuns.status, error: pipelineRuns.error, finishedAt: pipelineRuns.finishedAt, createdAt: pipelineRuns.createdAt, keepData: pipelineRuns.keepData })
    .from(pipelineRuns)
    .where(eq(pipelineRuns.orderId, orderId))
    .orderBy(desc(pipelineRuns.createdAt))
    .limit(2);
  const [latest, before] = runs;
  if (!latest) return null;
  if (latest.kind === "provision") {
    // A failed rebuild that keeps /data holds the owner's data aside: it is never released by itself.
    if (latest.status !== "failed" || !latest.finishedAt || latest.keepData) return null;
    const [held] = await db.select({ id: orders.id }).from(orders).where(and(eq(orders.id, orderId), holdsSomething(orders.id)));
    return held ? { state: "holding", until: holdEnd(latest.finishedAt).toISOString() } : null;
  }
  // A teardown after a failed delivery: the release (or a cancel's teardown, which also frees them).
  if (before?.kind !== "provision" || before.status !== "failed") return null;
  if (latest.status === "succeeded") return { state: "released", at: latest.finishedAt?.toISOString() ?? null };
  if (latest.status === "failed") return { state: "release_failed", error: latest.error };
  return { state: "releasing" };
}

/**
 * Releases what failed orders hold once FAILED_HOLD_HOURS have passed since they failed (as of
 * `now`): a teardown run per order (halt, remove what was built on the host, free addresses,
 * environment deleted). Safe in two workers at once: each order is claimed under its row lock,
 * and a claimed order has a newer run, so it is not picked again. Returns the orders' names.
 */
export async function releaseFailedOrders(db: Db, now = new Date()): Promise<string[]> {
  const cutoff = new Date(now.getTime() - env.FAILED_HOLD_HOURS * HOUR_MS);
  const due = await db
    .select({ id: orders.id, runId: pipelineRuns.id })
    .from(orders)
    .innerJoin(pipelineRuns, eq(pipelineRuns.orderId, orders.id))
    .where(
      and(
        eq(orders.status, "failed"),
        eq(pipelineRuns.kind, "provision"),
        eq(pipelineRuns.status, "failed"),
        // A rebuild keeping /data (a reinstall, a patch campaign's update) holds the data aside: left for a retry or a rollback.
        eq(pipelineRuns.keepData, false),
        lte(pipelineRuns.finishedAt, cutoff),
        isLatestRun,
        holdsSomething(orders.id),
      ),
    )
    .limit(200);
  const released: string[] = [];
  for (const candidate of due) {
    try {
      const name = await releaseOne(db, candidate.id, candidate.runId, now);
      if (name) released.push(name);
    } catch (err) {
      // One order failing must not hold up the others; the next sweep tries again.
      console.error(`[failed-hold] releasing order ${candidate.id} failed; retried at the next sweep:`, (err as Error).message);
    }
  }
  if (released.length) console.log(`[failed-hold] released what ${released.length} failed order(s) held: ${released.join(", ")}`);
  return released;
}

async function releaseOne(db: Db, orderId: string, failedRunId: string, now: Date): Promise<string | null> {
  const claimed = await db.transaction(async (tx) => {
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for("update");
    if (!order || order.status !== "failed") return null;
    // Still the latest run (nobody retried, cancelled or released it meanwhile)?
    const [latest] = await tx.select({ id: pipelineRuns.id }).from(pipelineRuns).where(eq(pipelineRuns.orderId, orderId)).orderBy(desc(pipelineRuns.createdAt)).limit(1);
    if (latest?.id !== failedRunId) return null;
    await tx.update(environments).set({ state: "deleting" }).where(and(eq(environments.orderId, orderId), ne(environments.state, "deleted")));
    const run = await createRun(tx, orderId, "destroy");
    const hours = env.FAILED_HOLD_HOURS;
    const reason = `${order.reason ?? "Delivery failed"}. Held ${hours} hour${hours === 1 ? "" : "s"} for a retry, then its host and addresses were released; a retry starts again from choosing a host`;
    await tx.update(orders).set({ reason, updatedAt: now }).where(eq(orders.id, orderId));
    await writeAudit(tx, {
      actorId: null,
      action: "order.release",
      targetType: "order",
      targetId: orderId,
      data: { run: run.id, holdHours: hours },
      before: { status: order.status, reason: order.reason },
      after: { status: order.status, reason },
    });
    return { run, name: order.name };
  });
  if (!claimed) return null;
  await announce(orderId, "teardown");
  await dispatchRun(claimed.run);
  return claimed.name;
}
