"use client";

import { useState } from "react";
import { api } from "../api-client";

/**
 * "Reinstall from the image" (owner and admins), after a confirmation that says what is lost:
 * the order goes back through the deploy pipeline, which the page's timeline then follows.
 * Where the host kind keeps the data filesystem apart from the root (canKeepData), the owner
 * may keep /data; the confirmation then says what stays.
 */
export function ReinstallPanel({
  environmentId,
  imageName,
  canKeepData,
  disabled,
  onDone,
}: {
  environmentId: string;
  imageName: string;
  canKeepData: boolean;
  disabled: boolean;
  onDone: () => Promise<void>;
}) {
  const [confirm, setConfirm] = useState(false);
  const [keepData, setKeepData] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function reinstall() {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/environments/${environmentId}/reinstall`, { method: "POST", body: { keepData: canKeepData && keepData } });
    if (!res.ok) setError(res.error);
    setConfirm(false);
    await onDone();
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="reinstall-heading" data-testid="reinstall-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="reinstall-heading" className="text-base">Reinstall</h2>
        {!confirm ? (
          <button type="button" className="btn btn-secondary w-full sm:w-auto" disabled={disabled || busy} onClick={() => setConfirm(true)}>
            Reinstall…
          </button>
        ) : null}
      </div>
      <div className="space-y-3 px-5 py-4 text-sm">
        <p className="text-slate-600">Builds the environment again from the current {imageName} image. Name, addresses and MACs stay the same.</p>
        {canKeepData ? (
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={keepData} disabled={disabled || busy} onChange={(e) => setKeepData(e.target.checked)} />
            Keep the data on /data
          </label>
        ) : null}
        {confirm ? (
          <div role="alertdialog" aria-label="Confirm reinstall" className="rounded-md border border-rose-200 bg-rose-50 p-3 text-rose-900">
            <p>
              {canKeepData && keepData
                ? "The guest is stopped and starts again from the new image: the files under /data stay (on QEMU hosts also its SSH host key); everything outside /data and its snapshots are gone."
                : "The guest is stopped and its disk is built again: the files on it (also under /data) and its snapshots are gone."}
            </p>
            <div className="mt-2 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
              <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => setConfirm(false)}>
                Keep it
              </button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={reinstall}>
                {busy ? "Asking…" : "Yes, reinstall"}
              </button>
            </div>
          </div>
        ) : null}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
      </div>
    </section>
  );
}
