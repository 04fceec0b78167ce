"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { HeldResize } from "@/lib/lifecycle/resize";
import { api } from "../api-client";
import { formatDateTime } from "../format";

/** Resizes that policy held for an approver: approve (the resize runs) or reject with a reason. */
export function HeldResizesList({ requests }: { requests: HeldResize[] }) {
  return (
    <section aria-labelledby="resizes-heading" className="mt-8">
      <h2 id="resizes-heading" className="mb-3">Resizes</h2>
      {requests.length === 0 ? (
        <div className="card p-6 text-center text-sm text-slate-600" data-testid="resizes-empty">No resize is waiting for a decision.</div>
      ) : (
        <ul className="space-y-3" aria-label="Resizes waiting for approval">
          {requests.map((r) => (
            <li key={r.id} className="card grid grid-cols-1 gap-4 p-5 lg:grid-cols-3" data-testid="resize-item">
              <div className="min-w-0 text-sm lg:col-span-2">
                <p>
                  <Link prefetch={false} href={`/orders/${r.orderId}`} className="font-mono font-semibold text-sky-700 wrap-anywhere hover:underline">{r.name}</Link>{" "}
                  <span className="text-slate-600">{r.from} → {r.to}, asked by {r.requestedBy} on {formatDateTime(r.createdAt)}</span>
                </p>
                <p className="mt-1 text-amber-800">{r.why}</p>
              </div>
              <div className="lg:border-l lg:border-slate-100 lg:pl-5">
                <ResizeDecision environmentId={r.environmentId} actionId={r.id} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ResizeDecision({ environmentId, actionId }: { environmentId: string; actionId: string }) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/environments/${environmentId}/resize/${actionId}/decision`, { method: "POST", body: approve ? { approve } : { approve, reason: reason || undefined } });
    if (!res.ok) setError(res.error);
    else router.refresh();
    setBusy(false);
  }

  return (
    <div className="space-y-2 text-sm">
      <label className="flex flex-col gap-1">
        <span className="text-slate-700">Reason (for a rejection)</span>
        <input className="field-input" value={reason} maxLength={500} disabled={busy} onChange={(e) => setReason(e.target.value)} />
      </label>
      <div className="flex flex-col gap-2 sm:flex-row">
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => decide(true)}>Approve resize</button>
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => decide(false)}>Reject</button>
      </div>
      {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
    </div>
  );
}
