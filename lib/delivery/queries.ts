import { sql } from "drizzle-orm";
import { detachedFromRequest, rowsOf as rows, type Db } from "../db/client";
import { provisionSteps, stepLabel } from "../pipeline/steps";
import {
  ESTIMATE_MIN_SAMPLES, ESTIMATE_WINDOW, ONE_HOUR_MS, learnEstimate, median, remainingTime, type EstimateBasis, type StepEstimate,
} from "./stats";

const learnedLevels = ["image_and_host_kind", "image", "host_kind", "any_image"] as const;

/**
 * How many of the newest successful runs of each step the learner reads (through the index
 * on successful steps by name and finish time), before it picks the newest ESTIMATE_WINDOW
 * at each level among them. Bounds the work whatever the history holds; an image or host
 * kind not seen among them falls back to a less specific level.
 */
export const ESTIMATE_CANDIDATES = 200;

/** How long learned estimates are reused in this process: they move slowly, and every order page and pipeline run asks. */
export const ESTIMATE_CACHE_MS = 10_000;
const ESTIMATE_CACHE_MAX = 500;
const estimateCache = new WeakMap<Db, Map<string, { at: number; value: Promise<Record<string, StepEstimate>> }>>();

/**
 * What each provision step is expected to take for `imageId` on a host of `hostKind` (null
 * while the order is not placed yet), learned from the last ESTIMATE_WINDOW successful runs
 * of that step at each level (same image and host kind, same image, same host kind, any),
 * among the newest ESTIMATE_CANDIDATES of the step. One statement; reused for
 * ESTIMATE_CACHE_MS.
 */
export async function learnedStepEstimates(db: Db, imageId: string, hostKind: string | null): Promise<Record<string, StepEstimate>> {
  let cache = estimateCache.get(db);
  if (!cache) estimateCache.set(db, (cache = new Map()));
  const key = `${imageId}|${hostKind ?? ""}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < ESTIMATE_CACHE_MS) return hit.value;
  if (cache.size >= ESTIMATE_CACHE_MAX) {
    for (const [k, v] of cache) if (now - v.at >= ESTIMATE_CACHE_MS) cache.delete(k);
    if (cache.size >= ESTIMATE_CACHE_MAX) cache.clear();
  }
  const value = readStepEstimates(db, imageId, hostKind);
  cache.set(key, { at: now, value });
  // A failed read is not remembered.
  value.catch(() => cache.get(key)?.value === value && cache.delete(key));
  return value;
}

async function readStepEstimates(db: Db, imageId: string, hostKind: string | null): Promise<Record<string, StepEstimate>> {
  const names = provisionSteps.map((s) => s.name as string);
  const found = await rows<{ name: string; level: (typeof learnedLevels)[number]; ms: number }>(db, sql`
    with s as (
      select n.name, c.ms, c.finished_at, c.same_image, c.same_kind
      from unnest(${`{${names.join(",")}}`}::text[]) as n(name)
      cross join lateral (
        select ps.finished_at,
               floor(extract(epoch from ps.finished_at) * 1000) - floor(extract(epoch from ps.started_at) * 1000) as ms,
               o.image_id = ${imageId}::uuid as same_image,
               coalesce(h.kind = ${hostKind}::text, false) as same_kind
        from pipeline_steps ps
        join pipeline_runs r on r.id = ps.run_id and r.kind = 'provision'
        join orders o on o.id = r.order_id
        left join environments e on e.order_id = o.id
        left join hosts h on h.id = e.host_id
        where ps.name = n.name and ps.status = 'succeeded' and ps.started_at is not null and ps.finished_at is not null
          -- Recent history only: what a step took half a year ago says little about today.
          and ps.finished_at > now() - interval '180 days'
        order by ps.finished_at desc
        limit ${ESTIMATE_CANDIDATES}
      ) c
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

/** Max orders one dashboard view reads; beyond that the range is cut and says so. */
const MAX_ORDERS = 20_000;

type SpreadRow = { count: number; p50: number | null; p95: number | null };
type ShareRow = { kept: number; missed: number; open: number };

/** count, p50 and p95 of `expr` (ms) over the rows of the aggregate, rounded like spread() does. */
const spreadOf = (expr: ReturnType<typeof sql>) => sql`json_build_object(
  'count', count(${expr})::int,
  'p50', round((percentile_cont(0.5) within group (order by ${expr}))::numeric)::float8,
  'p95', round((percentile_cont(0.95) within group (order by ${expr}))::numeric)::float8)`;

/** kept, missed and open of promiseOutcome (stats.ts) per order, counted: `start` is when the clock started. */
const shareOf = (start: ReturnType<typeof sql>, nowMs: number) => sql`json_build_object(
  'kept', count(*) filter (where not excluded and ${start} is not null and ready_ms is not null and ready_ms - ${start} <= ${ONE_HOUR_MS})::int,
  'missed', count(*) filter (where not excluded and ${start} is not null and (
    (ready_ms is not null and ready_ms - ${start} > ${ONE_HOUR_MS}) or (ready_ms is null and ${nowMs}::float8 - ${start} > ${ONE_HOUR_MS})))::int,
  'open', count(*) filter (where not excluded and ${start} is not null and ready_ms is null and ${nowMs}::float8 - ${start} <= ${ONE_HOUR_MS})::int)`;

const share = (s: ShareRow) => ({ ...s, share: s.kept + s.missed === 0 ? null : s.kept / (s.kept + s.missed) });

/**
 * The figures behind the delivery dashboard and GET /api/v1/delivery, for orders submitted in
 * `range`: the share delivered within the hour (with and without the approval wait), p50/p95
 * of delivery time per image and of each step, where the time goes (approval, queue,
 * pipeline), and each step's estimate against what it took. Aggregated by PostgreSQL in two
 * statements: only the figures travel, never the orders or steps.
 */
export async function deliveryFigures(db: Db, range: DeliveryRange, now = new Date()) {
  const nowMs = now.getTime();
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  const [figures] = await rows<{
    submitted: number; delivered: number; waiting: number; in_progress: number; failed: number; rejected_or_cancelled: number;
    within: ShareRow; within_q: ShareRow; total: SpreadRow; approval: SpreadRow; queue: SpreadRow; pipeline: SpreadRow;
    per_image: { image: string; name: string; delivery: SpreadRow; within: ShareRow }[] | null;
    slowest: { id: string; name: string; image: string; totalMs: number; approvalMs: number; queueMs: number; pipelineMs: number }[] | null;
  }>(db, sql`
    with o as (
      select o.id, o.name, o.status, o.image_id,
             floor(extract(epoch from o.created_at) * 1000)::float8 as created_ms,
             floor(extract(epoch from coalesce(o.queued_at, r.created_at)) * 1000)::float8 as queued_ms,
             floor(extract(epoch from o.ready_at) * 1000)::float8 as ready_ms,
             floor(extract(epoch from r.started_at) * 1000)::float8 as run_started_ms
      from orders o
      left join lateral (
        select created_at, started_at from pipeline_runs where order_id = o.id and kind = 'provision' order by created_at asc limit 1
      ) r on true
      where o.created_at >= ${from}::timestamptz and o.created_at < ${to}::timestamptz
      order by o.created_at desc
      limit ${MAX_ORDERS}
    ), c as (
      select o.*, (status = 'rejected' or (status = 'cancelled' and ready_ms is null)) as excluded from o
    ), d as (
      select c.*, ready_ms - created_ms as total_ms,
             greatest(0, coalesce(queued_ms, created_ms) - created_ms) as approval_ms,
             case when run_started_ms is null then 0 else greatest(0, run_started_ms - coalesce(queued_ms, created_ms)) end as queue_ms,
             case when run_started_ms is null then ready_ms - coalesce(queued_ms, created_ms) else greatest(0, ready_ms - run_started_ms) end as pipeline_ms
      from c where ready_ms is not null
    ), per_image as (
      select i.slug as image, i.name,
             ${spreadOf(sql`dt.total_ms`)} as delivery,
             ${shareOf(sql`c.created_ms`, nowMs)} as within
      from c join images i on i.id = c.image_id left join (select id, total_ms from d) dt on dt.id = c.id
      group by i.slug, i.name
    )
    select
      (select count(*)::int from c) as submitted,
      (select count(*)::int from d) as delivered,
      (select count(*)::int from c where status = 'pending_approval') as waiting,
      (select count(*)::int from c where status in ('approved', 'queued', 'provisioning')) as in_progress,
      (select count(*)::int from c where status = 'failed') as failed,
      (select count(*)::int from c where status = 'rejected' or (status = 'cancelled' and ready_ms is null)) as rejected_or_cancelled,
      (select ${shareOf(sql`created_ms`, nowMs)} from c) as within,
      (select ${shareOf(sql`queued_ms`, nowMs)} from c) as within_q,
      (select ${spreadOf(sql`total_ms`)} from d) as total,
      (select ${spreadOf(sql`approval_ms`)} from d) as approval,
      (select ${spreadOf(sql`queue_ms`)} from d) as queue,
      (select ${spreadOf(sql`pipeline_ms`)} from d) as pipeline,
      (select json_agg(per_image) from per_image) as per_image,
      (select json_agg(json_build_object('id', s.id, 'name', s.name, 'image', i.name, 'totalMs', s.total_ms, 'approvalMs', s.approval_ms, 'queueMs', s.queue_ms, 'pipelineMs', s.pipeline_ms) order by s.total_ms desc, s.created_ms desc)
         from (select * from d order by total_ms desc, created_ms desc limit 10) s join images i on i.id = s.image_id) as slowest`);
  const steps = await rows<{ name: string; actual: SpreadRow; estimate_count: number; estimate_p50: number | null; actual_p50: number | null; mean_abs_error: number | null }>(db, sql`
    select ps.name,
           ${spreadOf(sql`ms`)} as actual,
           count(*) filter (where estimate_ms is not null)::int as estimate_count,
           percentile_cont(0.5) within group (order by estimate_ms) as estimate_p50,
           percentile_cont(0.5) within group (order by ms) filter (where estimate_ms is not null) as actual_p50,
           avg(abs(ms - estimate_ms)) as mean_abs_error
    from (
      select ps.name, ps.estimate_ms::float8 as estimate_ms,
             (floor(extract(epoch from ps.finished_at) * 1000) - floor(extract(epoch from ps.started_at) * 1000))::float8 as ms
      from pipeline_steps ps
      join pipeline_runs r on r.id = ps.run_id and r.kind = 'provision'
      where ps.status = 'succeeded' and ps.started_at is not null and ps.finished_at is not null
        -- The orders the figures above count (the newest MAX_ORDERS of the range).
        and r.order_id in (
          select id from orders where created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz order by created_at desc limit ${MAX_ORDERS}
        )
    ) ps
    group by ps.name`);

  const order = provisionSteps.map((s) => s.name as string);
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const num = (v: number | null) => (v === null ? null : Number(v));
  const spreadView = (s: SpreadRow) => ({ count: s.count, p50: num(s.p50), p95: num(s.p95) });
  return {
    range: { from, to },
    generatedAt: now.toISOString(),
    truncated: figures.submitted >= MAX_ORDERS,
    orders: {
      submitted: figures.submitted,
      delivered: figures.delivered,
      waitingForApproval: figures.waiting,
      inProgress: figures.in_progress,
      failed: figures.failed,
      rejectedOrCancelled: figures.rejected_or_cancelled,
    },
    withinHour: share(figures.within),
    withinHourExcludingApproval: share(figures.within_q),
    breakdown: {
      total: spreadView(figures.total),
      approval: spreadView(figures.approval),
      queue: spreadView(figures.queue),
      pipeline: spreadView(figures.pipeline),
    },
    perImage: (figures.per_image ?? [])
      .map((i) => ({ image: i.image, name: i.name, delivery: spreadView(i.delivery), withinHour: share(i.within) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    perStep: steps
      .filter((s) => s.actual.count > 0)
      .sort((a, b) => rank(a.name) - rank(b.name))
      .map((s) => ({
        step: s.name,
        label: stepLabel(s.name),
        actual: spreadView(s.actual),
        estimate: { count: s.estimate_count, p50: num(s.estimate_p50), actualP50: num(s.actual_p50), meanAbsErrorMs: num(s.mean_abs_error) },
      })),
    slowest: (figures.slowest ?? []).map((s) => ({ ...s, totalMs: Number(s.totalMs), approvalMs: Number(s.approvalMs), queueMs: Number(s.queueMs), pipelineMs: Number(s.pipelineMs) })),
  };
}

export type DeliveryFigures = Awaited<ReturnType<typeof deliveryFigures>>;

/**
 * How long the dashboard and GET /api/v1/delivery reuse figures they computed: they aggregate
 * thousands of orders and steps, and describe days, so figures a few seconds old are honest
 * (both say when they were computed: `generatedAt`).
 */
export const DELIVERY_FIGURES_TTL_MS = 20_000;
const FIGURES_CACHE_MAX = 50;
const figuresCache = new WeakMap<Db, Map<string, { at: number; value: Promise<DeliveryFigures> }>>();

/**
 * deliveryFigures for `range`, shared: requests for the same range (a preset such as "7d" by
 * its name, a custom range by its ends) within DELIVERY_FIGURES_TTL_MS get the figures of one
 * computation, and concurrent ones wait for the same computation instead of starting their own.
 * The computation runs detached from the request that started it, so that its client going
 * away does not cancel it for the others. A failure is not remembered.
 */
export function sharedDeliveryFigures(db: Db, range: DeliveryRange & { label: string }, now = new Date()): Promise<DeliveryFigures> {
  let cache = figuresCache.get(db);
  if (!cache) figuresCache.set(db, (cache = new Map()));
  const key = range.label === "custom" ? `${range.from.toISOString()}|${range.to.toISOString()}` : range.label;
  const at = now.getTime();
  const hit = cache.get(key);
  if (hit && at - hit.at < DELIVERY_FIGURES_TTL_MS && at >= hit.at) return hit.value;
  if (cache.size >= FIGURES_CACHE_MAX) {
    for (const [k, v] of cache) if (at - v.at >= DELIVERY_FIGURES_TTL_MS) cache.delete(k);
    if (cache.size >= FIGURES_CACHE_MAX) cache.clear();
  }
  const value = detachedFromRequest(() => deliveryFigures(db, { from: range.from, to: range.to }, now));
  cache.set(key, { at, value });
  value.catch(() => cache.get(key)?.value === value && cache.delete(key));
  return value;
}
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
  // Deliveries of this image the estimate could learn from (the most any step has): with few,
  // it leans on other images or the default and is a rough guess.
  const imageDeliveries = Math.max(0, ...Object.values(learned).map((l) => l.imageSamples));
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
    imageDeliveries,
    rough: imageDeliveries < ESTIMATE_MIN_SAMPLES,
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
