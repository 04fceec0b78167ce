"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "../api-client";

/** The teacher's reset of one machine, with a confirmation: the student's disk is rebuilt from the image. */
export function ResetMachineButton({ courseId, studentId, name, disabled }: { courseId: string; studentId: string; name: string; disabled: boolean }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function reset() {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/courses/${courseId}/machines/${studentId}/reset`, { method: "POST" });
    if (!res.ok) setError(res.error);
    setConfirming(false);
    setBusy(false);
    router.refresh();
  }
  if (!confirming) {
    return (
      <div>
        <button type="button" className="btn btn-secondary mt-1 w-full sm:mt-0 sm:w-auto" disabled={disabled || busy} onClick={() => setConfirming(true)} aria-label={`Reset ${name}`}>
          Reset
        </button>
        {error ? <p role="alert" className="mt-1 text-xs text-rose-700">{error}</p> : null}
      </div>
    );
  }
  return (
    <div role="alertdialog" aria-label={`Confirm reset of ${name}`} className="space-y-2 rounded-md border border-amber-200 bg-amber-50 p-2 text-xs text-amber-900">
      <p>Everything on {name}&apos;s disk is lost; it is rebuilt from the golden image with the same name and addresses.</p>
      <div className="flex gap-2">
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => setConfirming(false)}>Keep it</button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={reset}>{busy ? "Resetting…" : "Yes, reset"}</button>
      </div>
    </div>
  );
}

export function ResetAllButton({ courseId, ready }: { courseId: string; ready: number }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  async function resetAll() {
    setBusy(true);
    const res = await api<{ reset: string[]; skipped: { name: string; status: string }[] }>(`/api/v1/courses/${courseId}/reset-all`, { method: "POST" });
    setBusy(false);
    setConfirming(false);
    setMessage(
      res.ok
        ? { ok: true, text: `Resetting ${res.data.reset.length} machine(s)${res.data.skipped.length ? `; skipped ${res.data.skipped.map((s) => `${s.name} (${s.status})`).join(", ")}` : ""}` }
        : { ok: false, text: res.error },
    );
    router.refresh();
  }
  return (
    <div className="flex w-full flex-col gap-2 sm:w-auto sm:items-end">
      {confirming ? (
        <div role="alertdialog" aria-label="Confirm reset of all machines" className="flex flex-wrap items-center gap-2 rounded-md border border-amber-200 bg-amber-50 p-2 text-xs text-amber-900">
          <span>Rebuild all {ready} ready machines from the golden image?</span>
          <button type="button" className="btn btn-secondary" onClick={() => setConfirming(false)}>Keep them</button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={resetAll}>{busy ? "Resetting…" : "Yes, reset all"}</button>
        </div>
      ) : (
        <button type="button" className="btn btn-secondary" disabled={ready === 0} onClick={() => setConfirming(true)}>Reset all machines</button>
      )}
      {message ? <p role={message.ok ? "status" : "alert"} className={`text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p> : null}
    </div>
  );
}
