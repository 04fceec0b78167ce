"use client";

import { useState } from "react";
import { api } from "../api-client";

type Rotated = { name: string; label: string; password: string; note: string };

/**
 * "Make a new password" for a database environment (owner and admins): after a confirmation
 * the portal sets a new one inside the running guest and shows it here, once; the old one
 * stops working. Nothing of it is kept in the page once it is closed or reloaded.
 */
export function DatabasePassword({ environmentId, running, onDone }: { environmentId: string; running: boolean; onDone: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState<Rotated | null>(null);

  async function rotate() {
    setBusy(true);
    setError(null);
    const res = await api<Rotated>(`/api/v1/environments/${environmentId}/credentials`, { method: "POST" });
    setBusy(false);
    setConfirming(false);
    if (res.ok) setShown(res.data);
    else setError(res.error);
    await onDone();
  }

  return (
    <div className="space-y-2" data-testid="database-password">
      <h3 className="text-sm font-semibold text-slate-900">Database password</h3>
      {shown ? (
        <div role="status" className="rounded-md border-l-4 border-emerald-500 bg-emerald-50 px-3 py-2 text-emerald-900">
          <p>
            New {shown.label.toLowerCase()}: <code className="font-mono font-semibold select-all" data-testid="new-database-password">{shown.password}</code>
          </p>
          <p className="mt-1 text-xs">{shown.note}</p>
          <button type="button" className="btn btn-secondary mt-2" onClick={() => setShown(null)}>
            I have stored it
          </button>
        </div>
      ) : confirming ? (
        <div className="flex flex-wrap items-center gap-2">
          <p className="text-sm text-slate-700">The current password stops working once the guest has the new one.</p>
          <button type="button" className="btn btn-primary" disabled={busy} onClick={rotate}>
            {busy ? "Setting it in the guest…" : "Make a new password"}
          </button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="btn btn-secondary" disabled={!running} onClick={() => setConfirming(true)} title={running ? undefined : "Start the environment first"}>
          New password…
        </button>
      )}
      {error ? (
        <p role="alert" className="text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
