"use client";

import { useState } from "react";
import { api } from "../api-client";

const cancellable = ["submitted", "pending_approval", "approved", "queued", "provisioning", "failed"];

/** Cancel, retry and destroy, by the order's state: for its customer and admins. */
export function OrderActions({
  orderId,
  status,
  runFailed,
  released = false,
  onDone,
}: {
  orderId: string;
  status: string;
  runFailed: boolean;
  /** A failed order whose hold was released: a retry starts from choosing a host. */
  released?: boolean;
  onDone: () => Promise<void>;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDestroy, setConfirmDestroy] = useState(false);

  async function act(action: "cancel" | "retry" | "destroy") {
    setBusy(action);
    setError(null);
    const res = await api(`/api/v1/orders/${orderId}/${action}`, { method: "POST" });
    if (!res.ok) setError(res.error);
    setConfirmDestroy(false);
    await onDone();
    setBusy(null);
  }

  const canRetry = status === "failed" && runFailed;
  const canCancel = cancellable.includes(status);
  const canDestroy = status === "ready";
  if (!canRetry && !canCancel && !canDestroy) return null;

  return (
    <div className="flex w-full flex-col gap-2 sm:w-auto sm:items-end">
      <div className="flex flex-col gap-2 sm:flex-row sm:flex-wrap sm:justify-end">
        {canRetry ? (
          <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => act("retry")}>
            {busy === "retry" ? "Retrying…" : released ? "Retry from the start" : "Retry from failed step"}
          </button>
        ) : null}
        {canCancel ? (
          <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => act("cancel")}>
            {busy === "cancel" ? "Cancelling…" : "Cancel order"}
          </button>
        ) : null}
        {canDestroy && !confirmDestroy ? (
          <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => setConfirmDestroy(true)}>
            Destroy environment
          </button>
        ) : null}
      </div>
      {canDestroy && confirmDestroy ? (
        <div role="alertdialog" aria-label="Confirm destroy" className="rounded-md border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900">
          <p>The guest is stopped and removed, and its addresses are freed. This cannot be undone.</p>
          <div className="mt-2 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => setConfirmDestroy(false)}>
              Keep it
            </button>
            <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => act("destroy")}>
              {busy === "destroy" ? "Destroying…" : "Yes, destroy it"}
            </button>
          </div>
        </div>
      ) : null}
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
    </div>
  );
}
