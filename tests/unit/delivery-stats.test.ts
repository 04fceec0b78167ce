import { describe, expect, it } from "vitest";
import {
  DEFAULT_STEP_ESTIMATE_MS, ONE_HOUR_MS, learnEstimate, median, percentile, promiseOutcome, remainingTime, shareWithin, spread, type OrderClock,
} from "@/lib/delivery/stats";

const MIN = 60_000;

describe("percentile", () => {
  it("interpolates between closest ranks like PostgreSQL's percentile_cont", () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(values, 50)).toBe(55);
    expect(percentile(values, 95)).toBeCloseTo(95.5, 10);
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(100);
  });

  it("does not depend on the input order and leaves the input alone", () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it("has no value for no data and refuses a percentile outside 0..100", () => {
    expect(percentile([], 50)).toBeNull();
    expect(spread([])).toEqual({ count: 0, p50: null, p95: null });
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("p95 of 20 deliveries sits between the 19th and 20th", () => {
    const minutes = Array.from({ length: 20 }, (_, i) => (i + 1) * MIN);
    expect(spread(minutes)).toEqual({ count: 20, p50: 630_000, p95: 1_143_000 });
  });
});

describe("the one-hour promise", () => {
  const t0 = Date.UTC(2026, 10, 25, 8);
  const clock = (o: Partial<OrderClock>): OrderClock => ({ status: "ready", createdAt: t0, queuedAt: t0, readyAt: null, ...o });

  it("is kept at exactly one hour and missed a millisecond later", () => {
    expect(promiseOutcome(clock({ readyAt: t0 + ONE_HOUR_MS }), t0 + 2 * ONE_HOUR_MS)).toBe("kept");
    expect(promiseOutcome(clock({ readyAt: t0 + ONE_HOUR_MS + 1 }), t0 + 2 * ONE_HOUR_MS)).toBe("missed");
  });

  it("an order not delivered is open until its hour has passed, then missed", () => {
    const running = clock({ status: "provisioning" });
    expect(promiseOutcome(running, t0 + 59 * MIN)).toBe("open");
    expect(promiseOutcome(running, t0 + 61 * MIN)).toBe("missed");
    expect(promiseOutcome(clock({ status: "failed" }), t0 + 2 * ONE_HOUR_MS)).toBe("missed");
  });

  it("leaves out rejected and cancelled orders; without approval wait it starts the clock at the queue", () => {
    expect(promiseOutcome(clock({ status: "rejected", queuedAt: null }), t0 + 5 * ONE_HOUR_MS)).toBe("excluded");
    expect(promiseOutcome(clock({ status: "cancelled" }), t0 + 5 * ONE_HOUR_MS)).toBe("excluded");
    const waitedForApprover = clock({ queuedAt: t0 + 3 * ONE_HOUR_MS, readyAt: t0 + 3 * ONE_HOUR_MS + 10 * MIN });
    expect(promiseOutcome(waitedForApprover, t0 + 4 * ONE_HOUR_MS)).toBe("missed");
    expect(promiseOutcome(waitedForApprover, t0 + 4 * ONE_HOUR_MS, { excludeApproval: true })).toBe("kept");
    const stillHeld = clock({ status: "pending_approval", queuedAt: null });
    expect(promiseOutcome(stillHeld, t0 + 2 * ONE_HOUR_MS)).toBe("missed");
    expect(promiseOutcome(stillHeld, t0 + 2 * ONE_HOUR_MS, { excludeApproval: true })).toBe("excluded");
  });

  it("the share counts kept against kept plus missed; open orders are reported apart", () => {
    const now = t0 + 10 * ONE_HOUR_MS;
    const orders = [
      clock({ readyAt: t0 + 20 * MIN }),
      clock({ readyAt: t0 + 50 * MIN }),
      clock({ readyAt: t0 + 90 * MIN }),
      clock({ status: "failed" }),
      clock({ status: "provisioning", createdAt: now - 5 * MIN, queuedAt: now - 5 * MIN }),
      clock({ status: "rejected", queuedAt: null }),
    ];
    expect(shareWithin(orders, now)).toEqual({ kept: 2, missed: 2, open: 1, share: 0.5 });
    expect(shareWithin([], now).share).toBeNull();
  });
});

describe("the estimate learner", () => {
  it("takes the median of the most specific level that has enough runs", () => {
    const e = learnEstimate({ image_and_host_kind: [10, 30, 20], image: [100, 100, 100], any_image: [1, 1, 1, 1] });
    expect(e).toEqual({ ms: 20, basis: "image_and_host_kind", samples: 3, imageSamples: 3 });
  });

  it("falls back to a broader level when the specific one has too few runs, and to the default with none", () => {
    expect(learnEstimate({ image_and_host_kind: [500], image: [40, 60, 50, 70] })).toEqual({ ms: 55, basis: "image", samples: 4, imageSamples: 4 });
    expect(learnEstimate({ host_kind: [7] })).toEqual({ ms: 7, basis: "host_kind", samples: 1, imageSamples: 0 });
    expect(learnEstimate({})).toEqual({ ms: DEFAULT_STEP_ESTIMATE_MS, basis: "default", samples: 0, imageSamples: 0 });
  });

  it("looks only at the newest runs of the window", () => {
    // Newest first: the step got faster; the old slow runs fall out of a window of 3.
    expect(learnEstimate({ any_image: [5, 6, 7, 900, 900, 900] }, { window: 3 })).toEqual({ ms: 6, basis: "any_image", samples: 3, imageSamples: 0 });
  });
});

describe("time left", () => {
  const now = 1_000_000;
  const estimates = { place: 1000, resolve: 2000, pack: 3000 };

  it("adds the queue wait before the first step and counts every step", () => {
    const steps = ["place", "resolve", "pack"].map((name) => ({ name, status: "pending", startedAt: null }));
    expect(remainingTime(steps, estimates, now, 500)).toEqual({ remainingMs: 6500, overrunMs: 0 });
  });

  it("decreases as steps finish and as the running step runs", () => {
    const running = [
      { name: "place", status: "succeeded", startedAt: now - 5000 },
      { name: "resolve", status: "running", startedAt: now - 500 },
      { name: "pack", status: "pending", startedAt: null },
    ];
    expect(remainingTime(running, estimates, now, 500)).toEqual({ remainingMs: 4500, overrunMs: 0 });
    expect(remainingTime(running, estimates, now + 1000, 500).remainingMs).toBe(3500);
    // Running late: the step's share is zero, the overrun is reported.
    expect(remainingTime(running, estimates, now + 4000, 500)).toEqual({ remainingMs: 3000, overrunMs: 2500 });
  });

  it("never adds time for a step that seems to start in the future (a clock a moment behind)", () => {
    const justStarted = [
      { name: "place", status: "succeeded", startedAt: now - 5000 },
      { name: "resolve", status: "running", startedAt: now + 800 },
      { name: "pack", status: "pending", startedAt: null },
    ];
    expect(remainingTime(justStarted, estimates, now)).toEqual({ remainingMs: 5000, overrunMs: 0 });
  });
});

describe("chart axes", () => {
  it("end on a round duration with at most five steps", async () => {
    const { durationAxis, shortDuration } = await import("@/components/delivery/duration");
    expect(durationAxis(3600)).toEqual({ max: 4000, ticks: [0, 1000, 2000, 3000, 4000] });
    expect(durationAxis(3_600_000).max).toBe(3_600_000);
    expect(durationAxis(70 * 60_000)).toEqual({ max: 75 * 60_000, ticks: [0, 15, 30, 45, 60, 75].map((m) => m * 60_000) });
    expect(durationAxis(0).max).toBe(1);
    expect([420, 4200, 65_000, 3_600_000, 4_500_000].map(shortDuration)).toEqual(["420 ms", "4.2 s", "1 min 5 s", "1 h", "1 h 15 min"]);
  });
});
