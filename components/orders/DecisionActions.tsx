"use client";

import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { rejectInput } from "@/lib/validation/order";
import { api } from "../api-client";

/** Approve, or reject with a reason the customer will read. For approvers of the order's group. */
export function DecisionActions({ orderId, orderName, onDone }: { orderId: string; orderName: string; onDone?: () => void | Promise<void> }) {
  const router = useRouter();
  const reasonId = useId();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonTouched, setReasonTouched] = useState(false);
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [error, setError] = useState<string | null>(null);

  const parsed = rejectInput.safeParse({ reason });
  const reasonError = parsed.success ? null : parsed.error.issues[0]?.message ?? "Say why the order is rejected";

  async function done() {
    if (onDone) await onDone();
    else router.refresh();
  }

  async function approve() {
    setBusy("approve");
    setError(null);
    const res = await api(`/api/v1/orders/${orderId}/approve`, { method: "POST", body: {} });
    setBusy(null);
    if (!res.ok) return setError(res.error);
    await done();
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
    await done();
  }

  return (
    <div className="space-y-3">
      {!rejecting ? (
        <div className="flex flex-wrap gap-2">
          <button type="button" className="btn btn-success" onClick={approve} disabled={busy !== null} aria-label={`Approve ${orderName}`}>
            {busy === "approve" ? "Approving…" : "Approve"}
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
          <div className="flex gap-2">
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
