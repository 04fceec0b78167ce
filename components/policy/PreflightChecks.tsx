"use client";

import { useState } from "react";
import type { Preflight } from "@/lib/policy/preflight";
import { api } from "../api-client";
import { formatDateTime } from "../format";

/**
 * What pre-flight found, computed when the page was loaded; "Check again" asks the portal
 * anew. Failed checks are listed first with the reason.
 */
export function PreflightChecks({ initial, onChange }: { initial: Preflight; onChange?: (p: Preflight) => void }) {
  const [result, setResult] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function recheck() {
    setBusy(true);
    setError(null);
    const res = await api<Preflight>(`/api/v1/orders/${result.orderId}/preflight`);
    setBusy(false);
    if (!res.ok) return setError(res.error);
    setResult(res.data);
    onChange?.(res.data);
  }

  const failing = result.checks.filter((c) => !c.ok).length;
  const sorted = [...result.checks].sort((a, b) => Number(a.ok) - Number(b.ok));
  return (
    <div className="space-y-2" data-testid="preflight" data-ok={String(result.ok)}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 className="text-sm font-medium text-slate-800">
          Pre-flight:{" "}
          {result.ok ? <span className="text-emerald-700">would succeed</span> : <span className="text-rose-700">{failing === 1 ? "1 check fails" : `${failing} checks fail`}</span>}
        </h3>
        <span className="text-xs text-slate-500">
          checked {formatDateTime(result.checkedAt)}{" "}
          <button type="button" onClick={recheck} disabled={busy} className="ml-1 text-sky-700 hover:underline disabled:opacity-50">
            {busy ? "Checking…" : "Check again"}
          </button>
        </span>
      </div>
      <ul className="space-y-1 text-sm" aria-label="Pre-flight checks">
        {sorted.map((c) => (
          <li key={c.key} className="flex gap-2" data-testid="preflight-check" data-check={c.key} data-ok={String(c.ok)}>
            <span aria-hidden className={`mt-0.5 font-bold ${c.ok ? "text-emerald-600" : "text-rose-600"}`}>{c.ok ? "✓" : "✗"}</span>
            <span>
              <span className={`font-medium ${c.ok ? "text-slate-800" : "text-rose-800"}`}>{c.label}</span>
              <span className="sr-only">{c.ok ? " (passed)" : " (failed)"}</span>
              <span className="block text-xs text-slate-600">{c.detail}</span>
            </span>
          </li>
        ))}
      </ul>
      {error ? <p role="alert" className="text-xs text-rose-700">{error}</p> : null}
    </div>
  );
}
