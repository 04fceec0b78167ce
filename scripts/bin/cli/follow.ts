import { formatDuration } from "../../../components/format";
import { ApiError, eventsOf, readAnswer, type Order, type PortalApi } from "./client";

/**
 * Follows an order live through its event stream (GET /api/v1/orders/{id}/events: a snapshot
 * at once, then one at every change) until `done` holds, reconnecting when the stream drops.
 * Resolves the last snapshot; rejects when `timeoutMs` passes first.
 */
export async function followOrder(api: PortalApi, id: string, done: (o: Order) => boolean, onSnapshot: (o: Order) => void, timeoutMs: number): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  let last: Order | null = null;
  while (Date.now() < deadline) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadline - Date.now());
    try {
      const res = await fetch(api.url("/api/v1/orders/{id}/events", { id }), { headers: api.headers({ accept: "text/event-stream" }), signal: controller.signal });
      if (!res.ok || !res.body) await readAnswer(res);
      for await (const { event, data } of eventsOf(res)) {
        if (event !== "snapshot" || !data) continue;
        last = JSON.parse(data) as Order;
        onSnapshot(last);
        if (done(last)) return last;
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (controller.signal.aborted) break;
      // The stream dropped (a restart, a proxy): connect again, as EventSource would.
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, deadline - Date.now()))));
  }
  throw new Error(`gave up waiting after ${Math.round(timeoutMs / 1000)} s; the order is ${last?.status ?? "in an unknown state"} (follow it with: portal show ${id})`);
}

/** Where an order stops changing by itself: its delivery is over, one way or the other. */
export const SETTLED = ["ready", "failed", "rejected", "cancelled", "retired"];

/** Prints what changed since the last snapshot: the order's status, each step as it starts and ends, its new log lines. */
export function progressPrinter(print: (line: string) => void) {
  let status = "";
  const steps = new Map<string, string>();
  const lines = new Set<string>();
  return (o: Order) => {
    // A new status first, but an outcome (ready, failed) after the steps that led to it.
    const statusLine = o.status === status ? null : `${o.name}: ${o.status.replace(/_/g, " ")}${o.reason && o.status !== "ready" ? ` (${o.reason})` : ""}`;
    status = o.status;
    const outcome = SETTLED.includes(o.status);
    if (statusLine && !outcome) print(statusLine);
    for (const s of [...o.steps, ...(o.teardown?.steps ?? [])]) {
      const key = `${s.name}#${s.attempt ?? 0}`;
      const changed = steps.get(key) !== s.status;
      steps.set(key, s.status);
      // A step's log lines go under its "…" line, and before its result.
      if (changed && s.status === "running") print(`  … ${s.label}${(s.attempt ?? 0) > 1 ? ` (attempt ${s.attempt})` : ""}`);
      for (const l of s.log ?? []) {
        const id = `${key}|${l.at}|${l.line}`;
        if (lines.has(id)) continue;
        lines.add(id);
        print(`      ${l.line}`);
      }
      if (!changed) continue;
      if (s.status === "succeeded") print(`  ✓ ${s.label}${s.durationMs != null ? ` (${formatDuration(s.durationMs)})` : ""}`);
      else if (s.status === "failed") print(`  ✗ ${s.label}${s.error ? `: ${s.error}` : ""}`);
      else if (s.status === "skipped") print(`  - ${s.label} (skipped)`);
    }
    if (statusLine && outcome) print(statusLine);
  };
}
