"use client";

import { useState } from "react";
import type { Day2ActionView } from "@/lib/orders/day2-history";
import type { SizeChoice } from "@/lib/lifecycle/resize";
import { api } from "../api-client";
import { formatDateTime, formatMemory } from "../format";

type Props = {
  environmentId: string;
  current: { slug: string; name: string; vcpus: number; memoryMb: number; diskGb: number };
  /** The sizes the group offers; those it may change to are the others with at least its disk. */
  sizes: SizeChoice[];
  /** The latest resize, if any. */
  latest: Day2ActionView | null;
  busyElsewhere: boolean;
  onDone: () => Promise<void>;
};

function sizeText(s: { vcpus: number; memoryMb: number; diskGb: number }): string {
  return `${s.vcpus} vCPU${s.vcpus === 1 ? "" : "s"}, ${formatMemory(s.memoryMb)}, ${s.diskGb} GB disk`;
}

/**
 * "Change size" (owner and admins): the guest is stopped, changed and started again; the
 * disk only grows. Quota and policy answer at once; a size that needs approval waits for an
 * approver (shown here until decided).
 */
export function ResizePanel({ environmentId, current, sizes: offered, latest, busyElsewhere, onDone }: Props) {
  const sizes = offered.filter((s) => s.slug !== current.slug && s.diskGb >= current.diskGb);
  const [flavor, setFlavor] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inFlight = latest && (latest.status === "queued" || latest.status === "running");
  const held = latest?.status === "held";

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    if (!flavor) {
      setError("Choose a size");
      return;
    }
    setBusy(true);
    const res = await api(`/api/v1/environments/${environmentId}/resize`, { method: "POST", body: { flavor } });
    if (!res.ok) setError(res.fields?.flavor?.[0] ?? res.error);
    else setFlavor("");
    await onDone();
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="resize-heading" data-testid="resize-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="resize-heading" className="text-base">Size</h2>
        <span className="text-xs text-slate-500" data-testid="current-size">
          {current.name}: {sizeText(current)}
        </span>
      </div>
      <div className="space-y-3 px-5 py-4 text-sm">
        {held ? (
          <p role="status" data-testid="resize-held" className="text-amber-900">
            <span className="font-medium">Resize to {latest.flavor} is waiting for an approver.</span>
            {latest.note ? <span className="block text-slate-600">{latest.note}</span> : null}
          </p>
        ) : inFlight ? (
          <p role="status" aria-live="polite" data-testid="resize-progress" className="text-sky-900">
            <span className="font-medium">Resizing to {latest.flavor}{latest.status === "queued" ? " (queued)" : "…"}</span>
            {latest.note ? <span className="block text-slate-600 wrap-anywhere">{latest.note}</span> : null}
          </p>
        ) : latest ? (
          <p data-testid="resize-last" data-status={latest.status} className={latest.status === "failed" ? "text-rose-800" : "text-slate-700"}>
            <span className="font-medium">{latest.status === "failed" ? `Resize to ${latest.flavor} failed` : `Resized to ${latest.flavor}`}</span>
            {latest.finishedAt ? <span className="text-slate-500"> at {formatDateTime(latest.finishedAt)}</span> : null}
            {latest.error ? <span className="block">{latest.error}</span> : null}
          </p>
        ) : null}
        {sizes.length ? (
          <form onSubmit={submit} className="flex flex-wrap items-end gap-3" noValidate>
            <label className="flex w-full flex-col gap-1 sm:w-auto sm:min-w-56">
              <span className="text-slate-700">New size</span>
              <select name="flavor" className="field-input" value={flavor} disabled={busy} onChange={(e) => setFlavor(e.target.value)}>
                <option value="">Choose a size…</option>
                {sizes.map((s) => (
                  <option key={s.slug} value={s.slug}>
                    {s.name} ({sizeText(s)})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy || !!inFlight || held || busyElsewhere}>
              {busy ? "Asking…" : "Resize"}
            </button>
            <p className="w-full text-xs text-slate-500">The guest is stopped, changed and started again; the disk only grows. Name, addresses and MACs stay.</p>
          </form>
        ) : (
          <p className="text-slate-500">No other size is offered to this order&apos;s group with at least its current disk.</p>
        )}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
      </div>
    </section>
  );
}
