/**
 * The lease rules, as pure functions of the lease and a clock (`now` is always passed in, so
 * tests choose the time). An environment's lease ends at `expiresAt`:
 *   7 days before: a warning (only if the lease was longer than 7 days), 1 day before: a
 *   warning (only if longer than 1 day); each once per lease end;
 *   at the end: the guest is stopped and the order turns "expiring";
 *   after the grace period: the environment is destroyed and its addresses are freed.
 * An extension moves the end; a stopped environment whose lease was extended starts again.
 */
import type { LeaseEventKind } from "../db/schema/leases";
import { DAY_MS } from "../time";

/** A lease time as messages and reasons show it: "2026-11-25 15:30 UTC". */
export const formatLeaseTime = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ") + " UTC";

export type LeaseAction = "warn_7d" | "warn_1d" | "stop" | "restart" | "retire";

export type LeaseState = {
  orderStatus: "ready" | "expiring";
  envState: string;
  /** When the environment was delivered (its lease began). */
  startedAt: Date;
  expiresAt: Date;
  /** Events already recorded for this lease end. */
  done: readonly LeaseEventKind[];
  /** The guest was stopped for an earlier lease end and has not been started since. */
  stoppedForEarlierEnd: boolean;
};

/** What the lease keeper must do now; empty when nothing is due. Idempotent by `done`. */
export function dueLeaseActions(s: LeaseState, now: Date, graceDays: number): LeaseAction[] {
  const t = now.getTime();
  const end = s.expiresAt.getTime();
  if (s.orderStatus === "expiring") {
    if (t >= end + graceDays * DAY_MS) return ["retire"];
    // The stop was recorded but the guest did not stop (the host failed): try again.
    if (s.envState === "running") return ["stop"];
    return [];
  }
  if (t >= end) return ["stop"];
  const actions: LeaseAction[] = [];
  if (s.stoppedForEarlierEnd && s.envState === "stopped") actions.push("restart");
  const lasted = end - s.startedAt.getTime();
  const left = end - t;
  if (left <= DAY_MS) {
    if (lasted > DAY_MS && !s.done.includes("warn_1d")) actions.push("warn_1d");
  } else if (left <= 7 * DAY_MS) {
    if (lasted > 7 * DAY_MS && !s.done.includes("warn_7d")) actions.push("warn_7d");
  }
  return actions;
}

/** Whole days left, rounded up (0 once the lease has ended). */
export function daysLeft(expiresAt: Date, now: Date): number {
  return Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS));
}

/** When an expiring environment will be destroyed. */
export function graceEnd(expiresAt: Date, graceDays: number): Date {
  return new Date(expiresAt.getTime() + graceDays * DAY_MS);
}

export type ExtensionRuling =
  | { outcome: "grant"; newEnd: Date; totalDays: number; reason: string }
  | { outcome: "request"; newEnd: Date; totalDays: number; reason: string };

/**
 * The extension rule: an owner may extend up to the limit (total days from delivery to the
 * new end) at once; beyond it the extension becomes a request for an approver. An ended
 * lease (grace period) is extended from now, not from the past end. Trusted callers (admins,
 * approvers of the group) are granted any extension.
 */
export function ruleOnExtension(input: {
  startedAt: Date;
  currentEnd: Date;
  days: number;
  maxDays: number;
  limitSource: string;
  now: Date;
  trusted?: string;
}): ExtensionRuling {
  const from = Math.max(input.currentEnd.getTime(), input.now.getTime());
  const newEnd = new Date(from + input.days * DAY_MS);
  // Rounded up, with a quarter of an hour to spare for the seconds between delivery and the
  // recorded lease start.
  const totalDays = Math.ceil((newEnd.getTime() - input.startedAt.getTime()) / DAY_MS - 0.01);
  if (input.trusted) return { outcome: "grant", newEnd, totalDays, reason: `granted: extensions by ${input.trusted} need no approval` };
  if (totalDays <= input.maxDays) {
    return { outcome: "grant", newEnd, totalDays, reason: `granted: ${totalDays} days in total is within the ${input.maxDays}-day limit of ${input.limitSource}` };
  }
  return {
    outcome: "request",
    newEnd,
    totalDays,
    reason: `needs an approver: ${totalDays} days in total is beyond the ${input.maxDays}-day limit of ${input.limitSource}`,
  };
}
