"use client";

import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import type { LeaseView } from "@/lib/leases/queries";
import { extendInput, extensionRejectInput } from "@/lib/leases/input";
import { api } from "../api-client";
import { formatDateTime } from "../format";

const eventLabels: Record<string, string> = {
  warn_7d: "7-day warning",
  warn_1d: "1-day warning",
  stopped: "Stopped at lease end",
  restarted: "Started again after extension",
  retired: "Destroyed after grace period",
};

const emailLabels: Record<string, string> = { pending: "e-mail queued", sent: "e-mailed", skipped: "not e-mailed (no mail server, or turned off on Account)", failed: "e-mail failed", none: "in the app" };

/**
 * The lease on the order page: end, days left, warnings sent, the extend form and extension
 * requests. It comes with the order's live view, so it follows the order (extended, ended,
 * destroyed) without a reload; `onDone` asks for the new view after an action here.
 */
export function LeasePanel({ lease, canExtend, canDecide, onDone }: { lease: LeaseView; canExtend: boolean; canDecide: boolean; onDone: () => Promise<void> }) {
  const daysId = useId();
  const reasonId = useId();
  const [days, setDays] = useState("7");
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const parsed = extendInput.safeParse({ days, reason: reason || undefined });
  const clientErrors: Record<string, string> = {};
  if (!parsed.success) for (const i of parsed.error.issues) clientErrors[String(i.path[0])] ??= i.message;
  const errorFor = (f: string) => (touched ? clientErrors[f] : undefined) ?? serverErrors[f]?.[0];
  const pending = lease.requests.find((r) => r.status === "pending");

  async function extend(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    setResult(null);
    if (!parsed.success) return;
    setBusy(true);
    const res = await api<{ outcome: string; reason: string; expiresAt: string }>(`/api/v1/leases/${lease.environmentId}/extend`, { method: "POST", body: parsed.data });
    setBusy(false);
    if (!res.ok) {
      setServerErrors(res.fields ?? {});
      setResult({ ok: false, text: res.error });
      return;
    }
    setServerErrors({});
    setTouched(false);
    setReason("");
    setResult({
      ok: true,
      text: res.data.outcome === "extended" ? `Extended: the lease now ends ${formatDateTime(res.data.expiresAt)} (${res.data.reason})` : `Sent to an approver: ${res.data.reason}`,
    });
    await onDone();
  }

  const live = lease.status === "ready" || lease.status === "expiring";
  const over = lease.status === "retiring" || lease.status === "retired";
  return (
    <section className="card" aria-labelledby="lease-heading" data-testid="lease-panel">
      <h2 id="lease-heading" className="border-b border-slate-100 px-5 py-3 text-base">Lease</h2>
      <div className="space-y-4 px-5 py-4 text-sm">
        {over ? (
          <p role="status" className="rounded-md border-l-4 border-slate-300 bg-slate-50 px-3 py-2 font-medium text-slate-800" data-testid="lease-over">
            {lease.status === "retired" ? "The environment was destroyed: the lease is over." : "The environment is being destroyed: the lease is over."}
          </p>
        ) : null}
        {lease.status === "expiring" ? (
          <div role="status" className="rounded-md border-l-4 border-amber-400 bg-amber-50 px-3 py-2 text-amber-900">
            <p className="font-semibold">Lease ended {formatDateTime(lease.expiresAt)}: the environment is stopped.</p>
            <p>It is destroyed on {formatDateTime(lease.destroyAt)} (its addresses are freed) unless you extend the lease; an extension starts it again.</p>
          </div>
        ) : null}
        <dl className="grid grid-cols-2 gap-3">
          <div>
            <dt className="text-slate-500">{over ? "Lease was to end" : "Lease ends"}</dt>
            <dd className="font-medium text-slate-900" data-testid="lease-end">{formatDateTime(lease.expiresAt)}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Days left</dt>
            <dd className="font-medium text-slate-900" data-testid="lease-days-left">{live ? lease.daysLeft : "—"}</dd>
          </div>
        </dl>
        {lease.course ? (
          <p className="text-slate-600" data-testid="lease-course">
            A lab machine of the course {lease.course.name}: it is kept until the course ends and then retired; the teacher can reset it to the golden image.
          </p>
        ) : (
        <div>
          <h3 className="mb-1 text-slate-700">Warnings sent</h3>
          {lease.events.length === 0 ? (
            <p className="text-slate-500">{over ? "None." : "None yet: warnings go out 7 days and 1 day before the end, in the app and by e-mail."}</p>
          ) : (
            <ul className="space-y-1" data-testid="lease-events">
              {lease.events.map((e) => (
                <li key={`${e.kind}-${e.leaseEnd}`} className="flex justify-between gap-2">
                  <span className="text-slate-800">{eventLabels[e.kind] ?? e.kind}</span>
                  <span className="text-right text-xs text-slate-500">{formatDateTime(e.at)} · {emailLabels[e.email]}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        )}

        {lease.requests.length ? (
          <div>
            <h3 className="mb-1 text-slate-700">Extension requests</h3>
            <ul className="space-y-2" data-testid="extension-requests">
              {lease.requests.map((r) => (
                <li key={r.id} className="rounded-md border border-slate-200 px-3 py-2">
                  <p className="font-medium text-slate-900">
                    +{r.days} days · <span className={r.status === "rejected" ? "text-rose-700" : r.status === "approved" ? "text-emerald-700" : "text-amber-700"}>{r.status}</span>
                  </p>
                  <p className="text-xs text-slate-600">{r.policy}</p>
                  {r.reason ? <p className="text-xs text-slate-600">Reason: {r.reason}</p> : null}
                  {r.status !== "pending" ? (
                    <p className="text-xs text-slate-600" data-testid="extension-decision">
                      {r.status === "approved" ? "Approved" : "Refused"} by {r.decidedBy}{r.decisionReason ? `: ${r.decisionReason}` : ""}
                    </p>
                  ) : !live ? (
                    <p className="text-xs text-slate-500">Not decided: the lease is over.</p>
                  ) : canDecide ? (
                    <ExtensionDecision requestId={r.id} onDone={onDone} />
                  ) : (
                    <p className="text-xs text-slate-500">Waiting for an approver of the group.</p>
                  )}
                </li>
              ))}
            </ul>
          </div>
        ) : null}

        {canExtend && lease.extendable && !pending ? (
          <form onSubmit={extend} noValidate aria-label="Extend the lease" className="space-y-3 border-t border-slate-100 pt-4">
            <p className="text-xs text-slate-500">
              Up to {lease.limit.maxDays} days in total (limit of {lease.limit.source}) is granted at once; longer goes to an approver.
            </p>
            <div>
              <label htmlFor={daysId} className="field-label">Extend by (days)</label>
              <input
                id={daysId}
                inputMode="numeric"
                value={days}
                onChange={(e) => {
                  setDays(e.target.value);
                  setTouched(true);
                  setServerErrors({});
                }}
                aria-invalid={Boolean(errorFor("days"))}
                className="field-input"
              />
              {errorFor("days") ? <p className="field-error">{errorFor("days")}</p> : null}
            </div>
            <div>
              <label htmlFor={reasonId} className="field-label">Reason (for an approver)</label>
              <textarea id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} className="field-input" />
              {errorFor("reason") ? <p className="field-error">{errorFor("reason")}</p> : null}
            </div>
            <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy}>{busy ? "Extending…" : "Extend lease"}</button>
          </form>
        ) : null}
        {result ? <p role={result.ok ? "status" : "alert"} className={`text-sm ${result.ok ? "text-emerald-700" : "text-rose-700"}`} data-testid="extend-result">{result.text}</p> : null}
      </div>
    </section>
  );
}

/** Approve or refuse an extension request; `onDone` (else a refresh of the page) shows the outcome. */
export function ExtensionDecision({ requestId, onDone }: { requestId: string; onDone?: () => Promise<void> }) {
  const router = useRouter();
  const id = useId();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rejectCheck = extensionRejectInput.safeParse({ reason });

  async function decide(approve: boolean) {
    if (!approve && !rejectCheck.success) {
      setError(rejectCheck.error.issues[0].message);
      return;
    }
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/leases/requests/${requestId}/${approve ? "approve" : "reject"}`, { method: "POST", body: reason ? { reason } : {} });
    setBusy(false);
    if (!res.ok) setError(res.error);
    if (onDone) await onDone();
    else router.refresh();
  }

  return (
    <div className="mt-2 space-y-2">
      <label htmlFor={id} className="sr-only">Reason for your decision</label>
      <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Reason (required to refuse)" className="field-input" />
      <div className="flex flex-col gap-2 sm:flex-row">
        <button type="button" className="btn btn-success" disabled={busy} onClick={() => decide(true)}>Approve extension</button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={() => decide(false)}>Refuse</button>
      </div>
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
    </div>
  );
}
