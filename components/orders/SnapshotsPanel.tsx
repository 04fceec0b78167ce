"use client";

import { useState } from "react";
import type { Day2ActionView, SnapshotView } from "@/lib/orders/day2-history";
import { snapshotInput } from "@/lib/lifecycle/input";
import { api } from "../api-client";
import { formatDateTime } from "../format";

const snapshotVerbs = {
  snapshot: { doing: "Taking snapshot", done: "Snapshot taken", failed: "Snapshot failed" },
  revert: { doing: "Reverting to", done: "Reverted to", failed: "Revert failed" },
  delete_snapshot: { doing: "Deleting snapshot", done: "Deleted snapshot", failed: "Deleting failed" },
} as const;

type Props = {
  environmentId: string;
  snapshots: SnapshotView[];
  /** The latest snapshot action (take, revert, delete), if any. */
  latest: Day2ActionView | null;
  /** Another action of the environment is queued or running (a start, a resize, a move). */
  busyElsewhere: boolean;
  canManage: boolean;
  onDone: () => Promise<void>;
};

/**
 * The environment's snapshots (owner and admins act; approvers see the list): take one by
 * name, revert to one after confirming, delete one; the running action's progress follows
 * the order's live stream.
 */
export function SnapshotsPanel({ environmentId, snapshots, latest, busyElsewhere, canManage, onDone }: Props) {
  const [name, setName] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<SnapshotView | null>(null);
  const inFlight = latest && (latest.status === "queued" || latest.status === "running");
  const locked = busy || !!inFlight || busyElsewhere;

  async function call(path: string, method: string, body?: unknown): Promise<boolean> {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/environments/${environmentId}/snapshots${path}`, { method, body });
    if (!res.ok) {
      if (res.fields?.name?.length) setFieldError(res.fields.name[0]!);
      else setError(res.error);
    }
    await onDone();
    setBusy(false);
    return res.ok;
  }

  async function take(e: React.FormEvent) {
    e.preventDefault();
    setFieldError(null);
    const parsed = snapshotInput.safeParse({ name });
    if (!parsed.success) {
      setFieldError(parsed.error.issues[0]?.message ?? "Name the snapshot");
      return;
    }
    if (await call("", "POST", parsed.data)) setName("");
  }

  return (
    <section className="card" aria-labelledby="snapshots-heading" data-testid="snapshots-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="snapshots-heading" className="text-base">Snapshots</h2>
        <span className="text-xs text-slate-500">{snapshots.length} kept</span>
      </div>
      <div className="space-y-4 px-5 py-4 text-sm">
        {inFlight ? (
          <p role="status" aria-live="polite" data-testid="snapshot-progress" className="text-sky-900">
            <span className="font-medium">
              {snapshotVerbs[latest.action as keyof typeof snapshotVerbs].doing} “{latest.snapshot}”{latest.status === "queued" ? " (queued)" : "…"}
            </span>
            {latest.note ? <span className="block text-slate-600 wrap-anywhere">{latest.note}</span> : null}
          </p>
        ) : latest ? (
          <p data-testid="snapshot-last" data-status={latest.status} className={latest.status === "failed" ? "text-rose-800" : "text-slate-700"}>
            <span className="font-medium">
              {latest.status === "failed" ? snapshotVerbs[latest.action as keyof typeof snapshotVerbs].failed : snapshotVerbs[latest.action as keyof typeof snapshotVerbs].done} “{latest.snapshot}”
            </span>
            {latest.finishedAt ? <span className="text-slate-500"> at {formatDateTime(latest.finishedAt)}</span> : null}
            {latest.error ? <span className="block">{latest.error}</span> : null}
          </p>
        ) : null}

        {snapshots.length ? (
          <ul className="divide-y divide-slate-100" data-testid="snapshot-list">
            {snapshots.map((s) => (
              <li key={s.id} className="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="snapshot-row" data-status={s.status}>
                <div className="min-w-0">
                  <p className="font-medium text-slate-900 wrap-anywhere">{s.name}</p>
                  <p className="text-xs text-slate-500">
                    {formatDateTime(s.createdAt)} · {s.status === "ready" ? (s.withMemory ? "disk and memory" : "disk") : s.status}
                  </p>
                </div>
                {canManage ? (
                  <div className="flex w-full gap-2 sm:w-auto">
                    <button type="button" className="btn btn-secondary flex-1 sm:flex-none" disabled={locked || s.status !== "ready"} onClick={() => setConfirm(s)}>
                      Revert
                    </button>
                    <button type="button" className="btn btn-secondary flex-1 sm:flex-none" disabled={locked || (s.status !== "ready" && s.status !== "failed")} onClick={() => call(`/${s.id}`, "DELETE")}>
                      Delete
                    </button>
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-500">No snapshots yet. A snapshot keeps the disk (and the memory of a running guest) as it is now, to go back to later.</p>
        )}

        {confirm ? (
          <div role="alertdialog" aria-label="Confirm revert" className="rounded-md border border-amber-200 bg-amber-50 p-3 text-amber-900">
            <p>
              Revert to “{confirm.name}”? Everything written since {formatDateTime(confirm.createdAt)} is lost. Name, addresses and MACs stay.
            </p>
            <div className="mt-2 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
              <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => setConfirm(null)}>
                Keep it as it is
              </button>
              <button
                type="button"
                className="btn btn-danger"
                disabled={busy}
                onClick={async () => {
                  await call(`/${confirm.id}/revert`, "POST");
                  setConfirm(null);
                }}
              >
                Yes, revert
              </button>
            </div>
          </div>
        ) : null}

        {canManage ? (
          <form onSubmit={take} className="flex flex-wrap items-end gap-3" noValidate>
            <label className="flex w-full flex-col gap-1 sm:w-auto sm:min-w-56">
              <span className="text-slate-700">Snapshot name</span>
              <input
                name="snapshot-name"
                className="field-input"
                value={name}
                maxLength={64}
                disabled={busy}
                onChange={(e) => setName(e.target.value)}
                aria-invalid={fieldError ? true : undefined}
                aria-describedby={fieldError ? "snapshot-name-error" : undefined}
              />
              {fieldError ? <span id="snapshot-name-error" className="text-xs text-rose-700">{fieldError}</span> : null}
            </label>
            <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={locked}>
              {busy ? "Asking…" : "Take snapshot"}
            </button>
          </form>
        ) : null}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
      </div>
    </section>
  );
}
