/**
 * The one-hour promise in numbers: percentiles, the share of orders delivered within the
 * hour, and the estimate learner. Pure functions (no database), shared by the dashboard, the
 * API, the order page (in the browser) and the unit tests.
 */
import { HOUR_MS } from "../time";

export const ONE_HOUR_MS = HOUR_MS;

/** How many recent successful runs of a step the learner looks at. */
export const ESTIMATE_WINDOW = 20;
/** Fewer samples than this at a level: a less specific level with enough samples is preferred. */
export const ESTIMATE_MIN_SAMPLES = 3;
/** What a step is expected to take before the portal has seen it run anywhere. */
export const DEFAULT_STEP_ESTIMATE_MS = 60_000;

/**
 * The p-th percentile (0..100) with linear interpolation between closest ranks, the same as
 * PostgreSQL's percentile_cont. null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

export type Spread = { count: number; p50: number | null; p95: number | null };

/** Count, p50 and p95 of durations in ms, rounded to whole ms. */
export function spread(values: readonly number[]): Spread {
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return { count: values.length, p50: round(percentile(values, 50)), p95: round(percentile(values, 95)) };
}

/** What the clock says about one order, as times in ms since the epoch. */
export type OrderClock = {
  status: string;
  createdAt: number;
  /** When it joined the queue (approved by policy or an approver); null while held. */
  queuedAt: number | null;
  readyAt: number | null;
};

export type PromiseOutcome = "kept" | "missed" | "open" | "excluded";

/**
 * Whether the promise held for one order: kept when ready within `limitMs` of submission
 * (of joining the queue, with `excludeApproval`), missed when ready later or when the limit
 * has passed without delivery (still waiting, failed), open while it can still be kept.
 * Rejected and cancelled orders are excluded (nothing was to be delivered); with
 * `excludeApproval`, so are orders still waiting for an approver (their clock has not started).
 */
export function promiseOutcome(o: OrderClock, now: number, opts: { excludeApproval?: boolean; limitMs?: number } = {}): PromiseOutcome {
  const limit = opts.limitMs ?? ONE_HOUR_MS;
  if (o.status === "rejected" || (o.status === "cancelled" && o.readyAt === null)) return "excluded";
  let start = o.createdAt;
  if (opts.excludeApproval) {
    if (o.queuedAt === null) return "excluded";
    start = o.queuedAt;
  }
  if (o.readyAt !== null) return o.readyAt - start <= limit ? "kept" : "missed";
  return now - start > limit ? "missed" : "open";
}

export type Share = { kept: number; missed: number; open: number; share: number | null };

/** The share of decided orders that kept the promise; open ones are counted apart. */
export function shareWithin(orders: readonly OrderClock[], now: number, opts: { excludeApproval?: boolean; limitMs?: number } = {}): Share {
  const s = { kept: 0, missed: 0, open: 0 };
  for (const o of orders) {
    const outcome = promiseOutcome(o, now, opts);
    if (outcome !== "excluded") s[outcome] += 1;
  }
  const decided = s.kept + s.missed;
  return { ...s, share: decided === 0 ? null : s.kept / decided };
}

/** Levels of the learner, most specific first. */
export const estimateLevels = ["image_and_host_kind", "image", "host_kind", "any_image", "default"] as const;
export type EstimateBasis = (typeof estimateLevels)[number];

/** `imageSamples`: how many runs of the step for this very image there were to learn from (at most the window). */
export type StepEstimate = { ms: number; basis: EstimateBasis; samples: number; imageSamples: number };

/**
 * A step's expected duration: the median of the most recent runs (newest first, at most
 * ESTIMATE_WINDOW) at the most specific level with at least ESTIMATE_MIN_SAMPLES samples; else
 * the most specific level with any; else the default.
 */
export function learnEstimate(
  samplesByLevel: Partial<Record<Exclude<EstimateBasis, "default">, readonly number[]>>,
  opts: { window?: number; minSamples?: number; defaultMs?: number } = {},
): StepEstimate {
  const window = opts.window ?? ESTIMATE_WINDOW;
  const minSamples = opts.minSamples ?? ESTIMATE_MIN_SAMPLES;
  const levels = estimateLevels.filter((l): l is Exclude<EstimateBasis, "default"> => l !== "default");
  const usable = levels.map((level) => ({ level, samples: (samplesByLevel[level] ?? []).slice(0, window) })).filter((x) => x.samples.length > 0);
  const pick = usable.find((x) => x.samples.length >= minSamples) ?? usable[0];
  const imageSamples = Math.min(window, samplesByLevel.image?.length ?? 0);
  if (!pick) return { ms: opts.defaultMs ?? DEFAULT_STEP_ESTIMATE_MS, basis: "default", samples: 0, imageSamples };
  return { ms: Math.round(median(pick.samples)!), basis: pick.level, samples: pick.samples.length, imageSamples };
}

export type StepProgress = { name: string; status: string; startedAt: string | number | null };

/**
 * Time left until ready, from the estimates of the steps still to run: the whole estimate of
 * each pending step plus what is left of the running step's (never below zero; a step that
 * overran its estimate reports how much). `queueMs` is added while no step has started.
 */
export function remainingTime(
  steps: readonly StepProgress[],
  estimates: Readonly<Record<string, number>>,
  now: number,
  queueMs = 0,
): { remainingMs: number; overrunMs: number } {
  let remaining = 0;
  let overrun = 0;
  let started = false;
  for (const s of steps) {
    const est = estimates[s.name] ?? DEFAULT_STEP_ESTIMATE_MS;
    if (s.status === "succeeded" || s.status === "skipped") {
      started = true;
      continue;
    }
    if (s.status === "running" && s.startedAt !== null) {
      started = true;
      // Never below zero: a browser's clock a moment behind the step's start is not time to add.
      const elapsed = Math.max(0, now - new Date(s.startedAt).getTime());
      remaining += Math.max(0, est - elapsed);
      overrun += Math.max(0, elapsed - est);
      continue;
    }
    remaining += est;
  }
  return { remainingMs: Math.round(remaining + (started ? 0 : queueMs)), overrunMs: Math.round(overrun) };
}
