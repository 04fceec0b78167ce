"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import type { OrderView } from "@/lib/orders/queries";
import type { OrderEstimate } from "@/lib/delivery/queries";
import { remainingTime } from "@/lib/delivery/stats";
import { formatTime } from "../format";
import { shortDuration } from "../delivery/duration";

/** How often the countdown and the bar move. */
const TICK_MS = 250;

/**
 * The one-hour promise on the order page: time left and expected ready time from the learned
 * estimates of the steps still to run, and time since submission, on one clock that ticks
 * from the page's start and that updates do not restart; the estimate is fetched anew from
 * /api/v1/orders/:id/estimate whenever a step starts or finishes. The bar only ever moves on.
 * Once delivered: how long it took and where the time went.
 */
export function DeliveryEstimate({ view, initial }: { view: OrderView; initial: OrderEstimate }) {
  const [estimate, setEstimate] = useState(initial);
  // Server clock minus browser clock, so step start times compare with "now" correctly. Each
  // answer's "now" is a little older than its arrival, so the largest offset seen is the best:
  // kept that way, the clock never goes back.
  const skew = useRef<number | null>(null);
  const learnSkew = (serverNow: string) => {
    skew.current = Math.max(skew.current ?? -Infinity, Date.parse(serverNow) - Date.now());
  };
  // Server time; starts at the server's "now" so the server's and the browser's first render agree.
  const [now, setNow] = useState(() => Date.parse(initial.now));
  const [floor, setFloor] = useState(0);
  const progressKey = `${view.status}:${view.steps.map((s) => s.status[0]).join("")}`;

  useEffect(() => {
    learnSkew(initial.now);
  }, [initial.now]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const res = await fetch(`/api/v1/orders/${view.id}/estimate`, { cache: "no-store", credentials: "same-origin" });
        if (!res.ok || cancelled) return;
        const next = (await res.json()) as OrderEstimate;
        learnSkew(next.now);
        setEstimate(next);
        setNow(Date.now() + skew.current!);
      } catch {
        // keep counting down from the last estimate
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [view.id, progressKey]);

  const live = estimate.phase === "queued" || estimate.phase === "running" || estimate.phase === "waiting_for_approval";
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setNow(Date.now() + (skew.current ?? 0)), TICK_MS);
    return () => clearInterval(t);
  }, [live]);

  const estimates = useMemo(() => Object.fromEntries(estimate.steps.map((s) => [s.name, s.estimateMs ?? 0])), [estimate]);
  // The page's own step list is the freshest (SSE); the estimate supplies the expected times.
  const steps = view.steps.length ? view.steps : estimate.steps;
  const left = live ? remainingTime(steps, estimates, now, estimate.phase === "running" ? 0 : estimate.queueEstimateMs) : null;
  const expected = left ? now + left.remainingMs : null;
  const deadline = Date.parse(estimate.promisedBy);
  const submitted = Date.parse(estimate.submittedAt);

  if (estimate.phase === "stopped") return null;

  if (estimate.phase === "delivered" && estimate.delivered) {
    const d = estimate.delivered;
    const parts = [
      { label: "approval", ms: d.approvalMs, tone: "bg-amber-400" },
      { label: "queue", ms: d.queueMs, tone: "bg-sky-400" },
      { label: "pipeline", ms: d.pipelineMs, tone: "bg-emerald-500" },
    ];
    const total = Math.max(1, d.approvalMs + d.queueMs + d.pipelineMs);
    return (
      <section className="card p-5" aria-labelledby="estimate-heading" data-testid="delivery-estimate" data-phase="delivered">
        <h2 id="estimate-heading" className="text-base">Delivery</h2>
        <p className="mt-1 text-sm text-slate-700">
          Delivered in <strong data-testid="delivered-in">{shortDuration(d.totalMs)}</strong>{" "}
          {estimate.withinHour ? <span className="font-medium text-emerald-700">— within the hour</span> : <span className="font-medium text-rose-700">— later than the hour</span>}
        </p>
        <div className="mt-3 flex h-3 overflow-hidden rounded-full bg-slate-100" role="img" aria-label={parts.map((p) => `${p.label} ${shortDuration(p.ms)}`).join(", ")}>
          {parts.map((p) => (p.ms > 0 ? <div key={p.label} className={p.tone} style={{ width: `${(p.ms / total) * 100}%` }} title={`${p.label}: ${shortDuration(p.ms)}`} /> : null))}
        </div>
        <ul className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
          {parts.map((p) => (
            <li key={p.label} className="flex items-center gap-1.5">
              <span aria-hidden className={`size-2 rounded-full ${p.tone}`} />
              {p.label} {shortDuration(p.ms)}
            </li>
          ))}
        </ul>
      </section>
    );
  }

  const elapsed = Math.max(0, now - submitted);
  const computed = left && elapsed + left.remainingMs > 0 ? elapsed / (elapsed + left.remainingMs) : 0;
  // A new estimate (a step slower than expected) lowers the share done: the bar waits instead of moving back.
  if (computed > floor) setFloor(computed);
  const fraction = Math.max(floor, computed);
  const onTime = expected !== null && expected <= deadline;
  return (
    <section className="card p-5" aria-labelledby="estimate-heading" data-testid="delivery-estimate" data-phase={estimate.phase}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="estimate-heading" className="text-base">Delivery estimate</h2>
        <span className="text-xs text-slate-500">promised by {formatTime(new Date(deadline))} UTC</span>
      </div>
      {estimate.rough ? (
        <p className="mt-1 text-xs font-medium text-amber-800" data-testid="estimate-rough">
          {estimate.imageDeliveries === 0
            ? "First delivery of this image: rough estimate."
            : `Only ${estimate.imageDeliveries} earlier ${estimate.imageDeliveries === 1 ? "delivery" : "deliveries"} of this image: rough estimate.`}
        </p>
      ) : null}
      {estimate.phase === "waiting_for_approval" ? (
        <p className="mt-1 text-sm text-slate-700">
          Once approved, delivery takes about <strong data-testid="estimate-left">{shortDuration(left?.remainingMs)}</strong>. The hour counts from submission, so a quick decision keeps the promise.
        </p>
      ) : (
        <>
          <p className="mt-1 text-sm text-slate-700" aria-live="polite">
            About <strong data-testid="estimate-left">{shortDuration(left?.remainingMs)}</strong> left · expected ready at{" "}
            <strong data-testid="estimate-ready-at">{expected ? formatTime(new Date(expected)) : "—"} UTC</strong>
          </p>
          <div className="mt-3 h-2 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-label="Delivery progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)}>
            <div className={`h-2 rounded-full ${onTime ? "bg-sky-600" : "bg-amber-500"} transition-all`} style={{ width: `${Math.round(fraction * 100)}%` }} />
          </div>
          <p className="mt-2 text-xs text-slate-500">
            <span data-testid="estimate-elapsed">{shortDuration(elapsed)}</span> since submission.{" "}
            {onTime ? "On track for delivery within the hour." : "At risk: the estimate runs past the hour."}
            {left && left.overrunMs > 1000 ? ` The current step runs ${shortDuration(left.overrunMs)} longer than usual.` : ""}
          </p>
        </>
      )}
      <details className="mt-2 text-xs text-slate-500">
        <summary className="cursor-pointer">Estimated from the last successful runs of each step for this image{estimate.hostKind ? ` on ${estimate.hostKind} hosts` : ""}</summary>
        <table className="mt-2 w-full" data-testid="step-estimates">
          <thead>
            <tr className="text-left text-slate-500">
              <th scope="col" className="py-0.5 font-medium">Step</th>
              <th scope="col" className="py-0.5 font-medium">Expected</th>
              <th scope="col" className="py-0.5 font-medium">Took</th>
            </tr>
          </thead>
          <tbody>
            {estimate.steps.map((s) => {
              const current = steps.find((x) => x.name === s.name);
              const took = current && "durationMs" in current ? current.durationMs : s.actualMs;
              return (
                <tr key={s.name} className="border-t border-slate-100">
                  <td className="py-0.5 text-slate-700">{s.label}</td>
                  <td className="py-0.5">{shortDuration(s.estimateMs)}{s.basis === "default" ? " (no history yet)" : ""}</td>
                  <td className="py-0.5">{took !== null && took !== undefined ? shortDuration(took) : current?.status === "running" ? "running…" : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </details>
    </section>
  );
}
