import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { provisionSteps, stepLabel } from "../pipeline/steps";
import {
  ESTIMATE_WINDOW, ONE_HOUR_MS, learnEstimate, median, remainingTime, shareWithin, spread, type EstimateBasis, type OrderClock, type StepEstimate,
} from "./stats";

/** Rows of a raw query, from node-postgres or PGlite alike. */
async function rows<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const learnedLevels = ["image_and_host_kind", "image", "host_kind", "any_image"] as const;

/**
 * What each provision step is expected to take for `imageId` on a host of `hostKind` (null
 * while the order is not placed yet), learned from the last ESTIMATE_WINDOW successful runs
 * of that step at each level (same image and host kind, same image, same host kind, any).
 */
export async function learnedStepEstimates(db: Db, imageId: string, hostKind: string | null): Promise<Record<string, StepEstimate>> {
  const found = await rows<{ name: string; level: (typeof learnedLevels)[number]; ms: number }>(db, sql`
    with s as (
      select ps.name, ps.finished_at,
             floor(extract(epoch from ps.finished_at) * 1000) - floor(extract(epoch from ps.started_at) * 1000) as ms,
             o.image_id = ${imageId}::uuid as same_image,
             coalesce(h.kind = ${hostKind}::text, false) as same_kind
      from pipeline_steps ps
      join pipeline_runs r on r.id = ps.run_id and r.kind = 'provision'
      join orders o on o.id = r.order_id
      left join environments e on e.order_id = o.id
      left join hosts h on h.id = e.host_id
      where ps.status = 'succeeded' and ps.started_at is not null and ps.finished_at is not null
        -- Recent history only: what a step took half a year ago says little about today.
        and ps.finished_at > now() - interval '180 days'
    ), levels as (
      select name, ms, finished_at, 'image_and_host_kind' as level from s where same_image and same_kind
      union all select name, ms, finished_at, 'image' from s where same_image
      union all select name, ms, finished_at, 'host_kind' from s where same_kind
      union all select name, ms, finished_at, 'any_image' from s
    ), ranked as (
      select name, level, ms, finished_at, row_number() over (partition by name, level order by finished_at desc) as rn from levels
    )
    select name, level, ms::float8 as ms from ranked where rn <= ${ESTIMATE_WINDOW} order by name, level, finished_at desc`);
  const byStep = new Map<string, Partial<Record<(typeof learnedLevels)[number], number[]>>>();
  for (const r of found) {
    const levels = byStep.get(r.name) ?? {};
    (levels[r.level] ??= []).push(Number(r.ms));
    byStep.set(r.name, levels);
  }
  return Object.fromEntries(provisionSteps.map((s) => [s.name, learnEstimate(byStep.get(s.name) ?? {})]));
}

/** How long recent orders waited in the queue for a worker (median of the last runs), 0 without data. */
export async function learnedQueueWait(db: Db): Promise<{ ms: number; samples: number }> {
  const found = await rows<{ ms: number }>(db, sql`
    select (floor(extract(epoch from r.started_at) * 1000) - floor(extract(epoch from r.created_at) * 1000))::float8 as ms
    from pipeline_runs r
    where r.kind = 'provision' and r.started_at is not null
    order by r.started_at desc limit ${ESTIMATE_WINDOW}`);
  const values = found.map((r) => Math.max(0, Number(r.ms)));
  return { ms: Math.round(median(values) ?? 0), samples: values.length };
}

/**
 * Remembers, per run, what each step was expected to take when it started (the dashboard
 * compares that with what it took). Learned once per host kind; never fails the step.
 */
export function stepEstimator(db: Db) {
  const cache = new Map<string, Promise<Record<string, StepEstimate>>>();
  return async (ctx: { image: { id: string; hostKinds: string[] }; host: { kind: string } | null }, step: string): Promise<number | null> => {
    try {
      const kind = ctx.host?.kind ?? (ctx.image.hostKinds.length === 1 ? ctx.image.hostKinds[0] : null);
      const key = kind ?? "";
      if (!cache.has(key)) cache.set(key, learnedStepEstimates(db, ctx.image.id, kind));
      return (await cache.get(key)!)[step]?.ms ?? null;
    } catch (err) {
      console.error("[delivery] could not learn step estimates:", (err as Error).message);
      return null;
    }
  };
}

export type DeliveryRange = { from: Date; to: Date };

type OrderRow = {
  id: string; name: string; status: string; image_slug: string; image_name: string;
  created_ms: number; queued_ms: number | null; ready_ms: number | null; run_started_ms: number | null;
};

type StepRow = { name: string; image_slug: string; ms: number; estimate_ms: number | null };

/** Max orders one dashboard view reads; beyond that the range is cut and says so. */
const MAX_ORDERS = 20_000;

/**
 * The figures behind the delivery dashboard and GET /api/v1/delivery, for orders submitted in
 * `range`: the share delivered within the hour (with and without the approval wait), p50/p95
 * of delivery time per image and of each step, where the time goes (approval, queue,
 * pipeline), and each step's estimate against what it took.
 */
export async function deliveryFigures(db: Db, range: DeliveryRange, now = new Date()) {
  const orderRows = await rows<OrderRow>(db, sql`
    select o.id, o.name, o.status, i.slug as image_slug, i.name as image_name,
           floor(extract(epoch from o.created_at) * 1000)::float8 as created_ms,
           floor(extract(epoch from coalesce(o.queued_at, r.created_at)) * 1000)::float8 as queued_ms,
           floor(extract(epoch from o.ready_at) * 1000)::float8 as ready_ms,
           floor(extract(epoch from r.started_at) * 1000)::float8 as run_started_ms
    from orders o
    join images i on i.id = o.image_id
    left join lateral (
      select created_at, started_at from pipeline_runs where order_id = o.id and kind = 'provision' order by created_at asc limit 1
    ) r on true
    where o.created_at >= ${range.from.toISOString()}::timestamptz and o.created_at < ${range.to.toISOString()}::timestamptz
    order by o.created_at desc
    limit ${MAX_ORDERS}`);
  const stepRows = await rows<StepRow>(db, sql`
    select ps.name, i.slug as image_slug,
           (floor(extract(epoch from ps.finished_at) * 1000) - floor(extract(epoch from ps.started_at) * 1000))::float8 as ms, ps.estimate_ms
    from pipeline_steps ps
    join pipeline_runs r on r.id = ps.run_id and r.kind = 'provision'
    join orders o on o.id = r.order_id
    join images i on i.id = o.image_id
    where ps.status = 'succeeded' and ps.started_at is not null and ps.finished_at is not null
      and o.created_at >= ${range.from.toISOString()}::timestamptz and o.created_at < ${range.to.toISOString()}::timestamptz`);

  const nowMs = now.getTime();
  const clocks = orderRows.map((r) => ({
    ...r,
    clock: {
      status: r.status,
      createdAt: Number(r.created_ms),
      queuedAt: r.queued_ms === null ? null : Number(r.queued_ms),
      readyAt: r.ready_ms === null ? null : Number(r.ready_ms),
    } satisfies OrderClock,
  }));
  const delivered = clocks.filter((o) => o.clock.readyAt !== null);
  const split = (o: (typeof clocks)[number]) => {
    const { createdAt, queuedAt, readyAt } = o.clock;
    const q = queuedAt ?? createdAt;
    const started = o.run_started_ms === null ? null : Number(o.run_started_ms);
    return {
      totalMs: readyAt! - createdAt,
      approvalMs: Math.max(0, q - createdAt),
      queueMs: started === null ? 0 : Math.max(0, started - q),
      pipelineMs: started === null ? readyAt! - q : Math.max(0, readyAt! - started),
    };
  };
  const splits = delivered.map((o) => ({ order: o, ...split(o) }));

  const images = new Map<string, { slug: string; name: string; clocks: OrderClock[]; totals: number[] }>();
  for (const o of clocks) {
    const entry = images.get(o.image_slug) ?? { slug: o.image_slug, name: o.image_name, clocks: [], totals: [] };
    entry.clocks.push(o.clock);
    images.set(o.image_slug, entry);
  }
  for (const s of splits) images.get(s.order.image_slug)!.totals.push(s.totalMs);

  const stepNames = [...provisionSteps.map((s) => s.name as string), ...new Set(stepRows.map((s) => s.name))].filter((n, i, all) => all.indexOf(n) === i);
  const perStep = stepNames
    .map((name) => {
      const mine = stepRows.filter((s) => s.name === name);
      const withEstimate = mine.filter((s) => s.estimate_ms !== null);
      const errors = withEstimate.map((s) => Math.abs(Number(s.ms) - Number(s.estimate_ms)));
      return {
        step: name,
        label: stepLabel(name),
        actual: spread(mine.map((s) => Number(s.ms))),
        estimate: {
          count: withEstimate.length,
          p50: median(withEstimate.map((s) => Number(s.estimate_ms))),
          actualP50: median(withEstimate.map((s) => Number(s.ms))),
          meanAbsErrorMs: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : null,
        },
      };
    })
    .filter((s) => s.actual.count > 0);

  return {
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    generatedAt: now.toISOString(),
    truncated: orderRows.length >= MAX_ORDERS,
    orders: {
      submitted: clocks.length,
      delivered: delivered.length,
      waitingForApproval: clocks.filter((o) => o.status === "pending_approval").length,
      inProgress: clocks.filter((o) => ["approved", "queued", "provisioning"].includes(o.status)).length,
      failed: clocks.filter((o) => o.status === "failed").length,
      rejectedOrCancelled: clocks.filter((o) => o.status === "rejected" || (o.status === "cancelled" && o.clock.readyAt === null)).length,
    },
    withinHour: shareWithin(clocks.map((o) => o.clock), nowMs),
    withinHourExcludingApproval: shareWithin(clocks.map((o) => o.clock), nowMs, { excludeApproval: true }),
    breakdown: {
      total: spread(splits.map((s) => s.totalMs)),
      approval: spread(splits.map((s) => s.approvalMs)),
      queue: spread(splits.map((s) => s.queueMs)),
      pipeline: spread(splits.map((s) => s.pipelineMs)),
    },
    perImage: [...images.values()]
      .map((i) => ({ image: i.slug, name: i.name, delivery: spread(i.totals), withinHour: shareWithin(i.clocks, nowMs) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    perStep,
    slowest: [...splits]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 10)
      .map((s) => ({
        id: s.order.id, name: s.order.name, image: s.order.image_name, totalMs: s.totalMs,
        approvalMs: s.approvalMs, queueMs: s.queueMs, pipelineMs: s.pipelineMs,
      })),
  };
}

export type DeliveryFigures = Awaited<ReturnType<typeof deliveryFigures>>;
export type { EstimateBasis };

/**
 * How long an order still needs: the learned estimate of each step still to run (and of the
 * queue while no worker has it yet), the expected ready time, and whether that is within
 * the hour. For a delivered order: how long it took, split into approval, queue and pipeline.
 */
export async function orderEstimate(db: Db, orderId: string, now = new Date()) {
  const [order] = await db.query.orders.findMany({ where: (o, { eq }) => eq(o.id, orderId), limit: 1 });
  if (!order) return null;
  const [image] = await db.query.images.findMany({ where: (i, { eq }) => eq(i.id, order.imageId), limit: 1 });
  const runs = await db.query.pipelineRuns.findMany({ where: (r, { and, eq }) => and(eq(r.orderId, orderId), eq(r.kind, "provision")), orderBy: (r, { asc }) => asc(r.createdAt) });
  const run = runs.at(-1) ?? null;
  const steps = run ? await db.query.pipelineSteps.findMany({ where: (s, { eq }) => eq(s.runId, run.id), orderBy: (s, { asc }) => asc(s.position) }) : [];
  const [placed] = await rows<{ kind: string }>(db, sql`select h.kind from environments e join hosts h on h.id = e.host_id where e.order_id = ${orderId}::uuid`);
  const hostKind = placed?.kind ?? (image.hostKinds.length === 1 ? image.hostKinds[0] : null);
  const [learned, queue] = await Promise.all([learnedStepEstimates(db, image.id, hostKind), learnedQueueWait(db)]);

  const nowMs = now.getTime();
  const createdMs = order.createdAt.getTime();
  const queuedMs = (order.queuedAt ?? runs[0]?.createdAt ?? null)?.getTime() ?? null;
  const stepList = (steps.length ? steps : provisionSteps.map((s) => ({ name: s.name, status: "pending" as string, startedAt: null as Date | null, finishedAt: null as Date | null, estimateMs: null as number | null })))
    .map((s) => {
      const learnedStep = learned[s.name];
      // A step that has started keeps the estimate it started with; the others use what is known now.
      const estimateMs = s.estimateMs ?? learnedStep?.ms ?? null;
      return {
        name: s.name,
        label: stepLabel(s.name),
        status: s.status,
        startedAt: s.startedAt?.toISOString() ?? null,
        finishedAt: s.finishedAt?.toISOString() ?? null,
        estimateMs,
        basis: (s.estimateMs !== null ? "recorded" : learnedStep?.basis ?? "default") as EstimateBasis | "recorded",
        samples: learnedStep?.samples ?? 0,
        actualMs: s.startedAt && s.finishedAt && (s.status === "succeeded" || s.status === "skipped") ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
      };
    });

  const phase =
    order.status === "ready" || order.readyAt ? "delivered"
      : order.status === "pending_approval" ? "waiting_for_approval"
        : order.status === "queued" || order.status === "approved" ? "queued"
          : order.status === "provisioning" ? "running"
            : "stopped";
  let remainingMs: number | null = null;
  let overrunMs = 0;
  if (phase === "waiting_for_approval" || phase === "queued" || phase === "running") {
    const est = Object.fromEntries(stepList.map((s) => [s.name, s.estimateMs ?? 0]));
    const r = remainingTime(stepList, est, nowMs, phase === "running" ? 0 : queue.ms);
    remainingMs = r.remainingMs;
    overrunMs = r.overrunMs;
  }
  const expectedReadyMs = remainingMs === null ? null : nowMs + remainingMs;
  const deadlineMs = createdMs + ONE_HOUR_MS;
  const readyMs = order.readyAt?.getTime() ?? null;
  const runStartedMs = runs[0]?.startedAt?.getTime() ?? null;
  return {
    orderId: order.id,
    status: order.status,
    phase,
    submittedAt: order.createdAt.toISOString(),
    promisedBy: new Date(deadlineMs).toISOString(),
    now: now.toISOString(),
    elapsedMs: (readyMs ?? nowMs) - createdMs,
    remainingMs,
    overrunMs,
    expectedReadyAt: expectedReadyMs === null ? null : new Date(expectedReadyMs).toISOString(),
    /** While waiting for approval the pipeline's own time only: nobody knows when an approver acts. */
    withinHour: readyMs !== null ? readyMs - createdMs <= ONE_HOUR_MS : phase === "waiting_for_approval" || expectedReadyMs === null ? null : expectedReadyMs <= deadlineMs,
    queueEstimateMs: queue.ms,
    hostKind,
    delivered: readyMs === null ? null : {
      totalMs: readyMs - createdMs,
      approvalMs: queuedMs === null ? 0 : Math.max(0, queuedMs - createdMs),
      queueMs: runStartedMs === null || queuedMs === null ? 0 : Math.max(0, runStartedMs - queuedMs),
      pipelineMs: runStartedMs === null ? readyMs - (queuedMs ?? createdMs) : Math.max(0, readyMs - runStartedMs),
    },
    steps: stepList,
  };
}

export type OrderEstimate = NonNullable<Awaited<ReturnType<typeof orderEstimate>>>;
