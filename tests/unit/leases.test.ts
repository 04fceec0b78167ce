/**
 * The lease rules with a clock the test sets: warnings at 7 days and 1 day before the end
 * (once each), stop at the end, retire after the grace period, restart after an extension,
 * and the extension limit.
 */
import { describe, expect, it } from "vitest";
import { daysLeft, dueLeaseActions, graceEnd, ruleOnExtension, type LeaseState } from "@/lib/leases/rules";
import { DAY_MS } from "@/lib/time";

const start = new Date("2026-03-01T09:00:00Z");
const at = (days: number, hours = 0) => new Date(start.getTime() + days * DAY_MS + hours * 3600_000);

function lease(overrides: Partial<LeaseState> = {}): LeaseState {
  return { orderStatus: "ready", envState: "running", startedAt: start, expiresAt: at(30), done: [], stoppedForEarlierEnd: false, ...overrides };
}

describe("a 30-day lease, day by day", () => {
  it("is quiet until 7 days before its end", () => {
    for (const day of [0, 1, 10, 22]) expect(dueLeaseActions(lease(), at(day, 23), 3), `day ${day}`).toEqual([]);
  });

  it("warns 7 days before the end, then not again for the same end", () => {
    expect(dueLeaseActions(lease(), at(23), 3)).toEqual(["warn_7d"]);
    expect(dueLeaseActions(lease({ done: ["warn_7d"] }), at(23, 1), 3)).toEqual([]);
    expect(dueLeaseActions(lease({ done: ["warn_7d"] }), at(28, 23), 3)).toEqual([]);
  });

  it("warns 1 day before the end, once; a sweep that missed the 7-day window sends only the 1-day warning", () => {
    expect(dueLeaseActions(lease({ done: ["warn_7d"] }), at(29), 3)).toEqual(["warn_1d"]);
    expect(dueLeaseActions(lease({ done: [] }), at(29, 2), 3)).toEqual(["warn_1d"]);
    expect(dueLeaseActions(lease({ done: ["warn_7d", "warn_1d"] }), at(29, 12), 3)).toEqual([]);
  });

  it("stops at the end (even when no warning went out), then waits out the grace period", () => {
    expect(dueLeaseActions(lease({ done: ["warn_7d", "warn_1d"] }), at(30), 3)).toEqual(["stop"]);
    expect(dueLeaseActions(lease(), at(45), 3)).toEqual(["stop"]);
    const expiring = lease({ orderStatus: "expiring", envState: "stopped", done: ["warn_7d", "warn_1d", "stopped"] });
    expect(dueLeaseActions(expiring, at(30, 1), 3)).toEqual([]);
    expect(dueLeaseActions(expiring, at(32, 23), 3)).toEqual([]);
    expect(dueLeaseActions(expiring, at(33), 3)).toEqual(["retire"]);
    expect(dueLeaseActions(expiring, at(33), 0)).toEqual(["retire"]);
    expect(graceEnd(at(30), 3)).toEqual(at(33));
  });

  it("tries the stop again when the guest still runs after the order turned expiring (the host failed)", () => {
    expect(dueLeaseActions(lease({ orderStatus: "expiring", envState: "running" }), at(31), 3)).toEqual(["stop"]);
  });

  it("after an extension of a stopped environment: restart, and warnings count again for the new end", () => {
    const extended = lease({ expiresAt: at(50), envState: "stopped", stoppedForEarlierEnd: true, done: [] });
    expect(dueLeaseActions(extended, at(31), 3)).toEqual(["restart"]);
    const running = { ...extended, envState: "running", stoppedForEarlierEnd: false };
    expect(dueLeaseActions(running, at(43), 3)).toEqual(["warn_7d"]);
  });
});

describe("short leases", () => {
  it("a 5-day lease gets no 7-day warning, only the 1-day one", () => {
    const short = lease({ expiresAt: at(5) });
    expect(dueLeaseActions(short, at(0, 1), 3)).toEqual([]);
    expect(dueLeaseActions(short, at(3), 3)).toEqual([]);
    expect(dueLeaseActions(short, at(4), 3)).toEqual(["warn_1d"]);
  });

  it("a 1-day lease gets no warning and is stopped at its end", () => {
    const oneDay = lease({ expiresAt: at(1) });
    expect(dueLeaseActions(oneDay, at(0, 1), 3)).toEqual([]);
    expect(dueLeaseActions(oneDay, at(1), 3)).toEqual(["stop"]);
  });
});

describe("days left", () => {
  it("rounds up and stops at 0", () => {
    expect(daysLeft(at(30), at(23))).toBe(7);
    expect(daysLeft(at(30), at(29, 1))).toBe(1);
    expect(daysLeft(at(30), at(31))).toBe(0);
  });
});

describe("the extension rule", () => {
  const base = { startedAt: start, currentEnd: at(30), maxDays: 90, limitSource: "the portal", now: at(20) };

  it("grants an extension that stays within the limit, counting from delivery", () => {
    const r = ruleOnExtension({ ...base, days: 60 });
    expect(r).toMatchObject({ outcome: "grant", totalDays: 90 });
    expect(r.newEnd).toEqual(at(90));
    expect(r.reason).toBe("granted: 90 days in total is within the 90-day limit of the portal");
  });

  it("turns an extension beyond the limit into a request, saying which limit", () => {
    const r = ruleOnExtension({ ...base, days: 61, maxDays: 60, limitSource: "group Physics" });
    expect(r).toMatchObject({ outcome: "request", totalDays: 91 });
    expect(r.reason).toBe("needs an approver: 91 days in total is beyond the 60-day limit of group Physics");
  });

  it("extends an ended lease (in its grace period) from now, not from the past end", () => {
    const r = ruleOnExtension({ ...base, now: at(31), days: 7 });
    expect(r.newEnd).toEqual(at(38));
  });

  it("grants trusted callers any length", () => {
    const r = ruleOnExtension({ ...base, days: 300, trusted: "an admin" });
    expect(r).toMatchObject({ outcome: "grant", reason: "granted: extensions by an admin need no approval" });
  });
});
