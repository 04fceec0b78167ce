"use client";

import { useId, useState, type FormEvent } from "react";
import { rejectInput } from "@/lib/orders/input";
import { api } from "../api-client";

export type Decision = "approved" | "rejected";

/** What the approver is told once the portal took the decision. */
export function decisionConfirmation(decision: Decision, orderName: string): string {
  return decision === "approved" ? `Approved: ${orderName} is queued for delivery.` : `Rejected: the customer sees your reason on ${orderName}'s page.`;
}

/**
 * Approve, or reject with a reason the customer will read. For approvers of the order's group.
 * When pre-flight fails (`preflightOk` false, or the portal answers so), approving needs the
 * override box and a reason; the portal audits it. Once decided it says so in place of the
 * buttons, then tells `onDecided` (a list drops the order) and `onDone` (a page fetches it anew).
 */
export function DecisionActions({
  orderId,
  orderName,
  onDone,
  onDecided,
  preflightOk = true,
}: {
  orderId: string;
  orderName: string;
  onDone?: () => void | Promise<void>;
  onDecided?: (decision: Decision) => void;
  preflightOk?: boolean;
}) {
  const reasonId = useId();
  const [decided, setDecided] = useState<Decision | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonTouched, setReasonTouched] = useState(false);
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [failedChecks, setFailedChecks] = useState<string[] | null>(null);
  const [override, setOverride] = useState(false);
  const [overrideReason, setOverrideReason] = useState("");
  const needsOverride = !preflightOk || failedChecks !== null;
  const overrideId = useId();

  const parsed = rejectInput.safeParse({ reason });
  const reasonError = parsed.success ? null : parsed.error.issues[0]?.message ?? "Say why the order is rejected";

  async function done(decision: Decision) {
    setDecided(decision);
    onDecided?.(decision);
    await onDone?.();
  }

  async function approve() {
    if (needsOverride && override && overrideReason.trim().length < 3) return setError("Say why you approve despite the failed checks");
    setBusy("approve");
    setError(null);
    const body = needsOverride && override ? { override: true, reason: overrideReason.trim() } : {};
    const res = await api(`/api/v1/orders/${orderId}/approve`, { method: "POST", body });
    setBusy(null);
    if (!res.ok) {
      if (res.status === 409 && res.fields?.preflight) {
        setFailedChecks(res.fields.preflight);
        return setError("Pre-flight fails: approve only with an override and a reason");
      }
      return setError(res.fields?.reason?.[0] ?? res.error);
    }
    await done("approved");
  }

  async function reject(e: FormEvent) {
    e.preventDefault();
    setReasonTouched(true);
    if (reasonError) return;
    setBusy("reject");
    setError(null);
    const res = await api(`/api/v1/orders/${orderId}/reject`, { method: "POST", body: { reason } });
    setBusy(null);
    if (!res.ok) return setError(res.fields?.reason?.[0] ?? res.error);
    setRejecting(false);
    await done("rejected");
  }

  if (decided) {
    return (
      <p role="status" className="rounded-md border-l-4 border-emerald-400 bg-emerald-50 px-3 py-2 text-sm font-medium text-emerald-900" data-testid="decision-done">
        {decisionConfirmation(decided, orderName)}
      </p>
    );
  }

  return (
    <div className="space-y-3">
      {!rejecting && needsOverride ? (
        <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="override">
          {failedChecks ? (
            <ul className="list-inside list-disc text-xs text-rose-800">
              {failedChecks.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          ) : null}
          <label className="flex items-start gap-2 text-amber-900">
            <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} className="mt-1" />
            <span>Approve despite the failed pre-flight checks (recorded in the audit log)</span>
          </label>
          {override ? (
            <div>
              <label htmlFor={overrideId} className="field-label">Why approve anyway</label>
              <textarea id={overrideId} value={overrideReason} onChange={(e) => setOverrideReason(e.target.value)} rows={2} className="field-input" />
            </div>
          ) : null}
        </div>
      ) : null}
      {!rejecting ? (
        <div className="flex flex-col gap-2 sm:flex-row sm:flex-wrap">
          <button type="button" className="btn btn-success" onClick={approve} disabled={busy !== null || (needsOverride && !override)} aria-label={`Approve ${orderName}${needsOverride && override ? " with override" : ""}`}>
            {busy === "approve" ? "Approving…" : needsOverride && override ? "Approve with override" : "Approve"}
          </button>
          <button type="button" className="btn btn-secondary text-rose-700" onClick={() => setRejecting(true)} disabled={busy !== null} aria-label={`Reject ${orderName}`}>
            Reject…
          </button>
        </div>
      ) : (
        <form onSubmit={reject} noValidate className="space-y-2" aria-label={`Reject ${orderName}`}>
          <label htmlFor={reasonId} className="field-label">Reason for rejecting (the customer will read it)</label>
          <textarea
            id={reasonId}
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              setReasonTouched(true);
            }}
            rows={3}
            className="field-input"
            aria-invalid={reasonTouched && Boolean(reasonError)}
            aria-describedby={reasonTouched && reasonError ? `${reasonId}-error` : undefined}
            autoFocus
          />
          {reasonTouched && reasonError ? <p id={`${reasonId}-error`} className="field-error">{reasonError}</p> : null}
          <div className="flex flex-col gap-2 sm:flex-row">
            <button type="submit" className="btn btn-danger" disabled={busy !== null}>
              {busy === "reject" ? "Rejecting…" : "Reject order"}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => setRejecting(false)} disabled={busy !== null}>
              Back
            </button>
          </div>
        </form>
      )}
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
    </div>
  );
}
