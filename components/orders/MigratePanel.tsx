"use client";

import { useState } from "react";
import type { MigrationView } from "@/lib/orders/migration-history";
import { migrateInput } from "@/lib/lifecycle/input";
import { api } from "../api-client";
import { formatDateTime } from "../format";
import type { MoveChoice } from "./move-choice";

type Props = {
  environmentId: string;
  currentHost: string;
  migrations: MigrationView[];
  /** What moveChoice found; a move in flight is followed whatever it says now. */
  choice: MoveChoice;
  onDone: () => Promise<void>;
};

function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

function bytes(n: number | null | undefined): string {
  if (!n) return "—";
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/**
 * "Move to another host" (admins): choose a target, follow the live migration's progress
 * (the order's event stream refreshes the view), and see what it measured.
 */
export function MigratePanel({ environmentId, currentHost, migrations, choice, onDone }: Props) {
  const [host, setHost] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const latest = migrations[0];
  const inFlight = latest && (latest.status === "queued" || latest.status === "running");
  // Zones have no live migration: an admin may move them cold (down during the transfer).
  const cold = choice.mode === "cold";

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setFieldError(null);
    const parsed = migrateInput.safeParse(cold ? { host, cold: true } : { host });
    if (!parsed.success) {
      setFieldError(parsed.error.issues[0]?.message ?? "Choose a target host");
      return;
    }
    setBusy(true);
    const res = await api(`/api/v1/environments/${environmentId}/migrate`, { method: "POST", body: parsed.data });
    if (!res.ok) {
      if (res.fields?.host?.length) setFieldError(res.fields.host[0]!);
      else setError(res.error);
    } else setHost("");
    await onDone();
    setBusy(false);
  }

  if (!inFlight && "why" in choice) {
    return (
      <p className="card px-5 py-3 text-sm text-slate-600" data-testid="move-unavailable">
        <span className="font-medium text-slate-800">Move to another host:</span> {choice.why}
      </p>
    );
  }

  return (
    <section className="card" aria-labelledby="move-heading" data-testid="move-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="move-heading" className="text-base">Move to another host</h2>
        <span className="text-xs text-slate-500">Admins · {cold ? "cold move" : "live migration"}</span>
      </div>
      <div className="space-y-4 px-5 py-4 text-sm">
        {inFlight ? (
          <div data-testid="move-progress" role="status" aria-live="polite">
            <p className="font-medium text-slate-900">
              {latest.status === "queued" ? "Queued: " : cold ? "Moving: " : "Migrating: "}
              {latest.from} → {latest.to}
            </p>
            <div className="mt-2 h-2 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden>
              <div className="h-full rounded-full bg-sky-500 transition-all" style={{ width: `${Math.max(2, latest.progress)}%` }} />
            </div>
            <p className="mt-1 text-xs text-slate-600">
              {latest.progress}% · {latest.note ?? "waiting for a worker"}
            </p>
            <p className="mt-1 text-xs text-slate-500">
              {cold ? "The guest is down until it boots on the target host." : "The guest keeps running while its memory is copied; it pauses only for the last pages."}
            </p>
          </div>
        ) : null}

        {"targets" in choice && !inFlight ? (
          <form onSubmit={submit} className="flex flex-wrap items-end gap-3" noValidate>
            <label className="flex w-full flex-col gap-1 sm:w-auto sm:min-w-56">
              <span className="text-slate-700">Target host</span>
              <select
                name="host"
                className="field-input"
                value={host}
                disabled={busy}
                onChange={(e) => setHost(e.target.value)}
                aria-invalid={fieldError ? true : undefined}
                aria-describedby={fieldError ? "move-host-error" : undefined}
              >
                <option value="">Choose a host…</option>
                {choice.targets.map((t) => (
                  <option key={t.id} value={t.name}>
                    {t.name} ({t.freeMemoryMb} MiB, {t.freeVcpus} vCPUs free)
                  </option>
                ))}
              </select>
              {fieldError ? <span id="move-host-error" className="text-xs text-rose-700">{fieldError}</span> : null}
            </label>
            <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy}>
              {busy ? "Asking…" : cold ? "Cold move" : "Move now"}
            </button>
            {choice.note ? (
              <p className="w-full text-xs text-amber-800" data-testid="move-cold-warning">
                {choice.note}
              </p>
            ) : null}
            <p className="w-full text-xs text-slate-500">
              From {currentHost}. Addresses, MACs and service IPs stay the same; the page shows progress, total time and downtime.
            </p>
          </form>
        ) : null}
        {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}

        {migrations.filter((m) => m.status === "succeeded" || m.status === "failed").length > 0 ? (
          <div>
            <h3 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">Past moves</h3>
            <ul className="divide-y divide-slate-100" data-testid="move-history">
              {migrations
                .filter((m) => m.status === "succeeded" || m.status === "failed")
                .map((m) => (
                  <li key={m.id} className="py-2" data-testid="move-result" data-status={m.status}>
                    <p className="font-medium text-slate-900">
                      {m.from} → {m.to}{" "}
                      <span className={m.status === "succeeded" ? "text-emerald-700" : "text-rose-700"}>{m.status === "succeeded" ? "done" : "failed"}</span>
                      <span className="ml-2 text-xs font-normal text-slate-500">{m.finishedAt ? formatDateTime(m.finishedAt) : ""}</span>
                    </p>
                    {m.status === "succeeded" && m.result ? (
                      <p className="text-slate-700">
                        Migration time <strong data-testid="move-total">{ms(m.result.totalMs)}</strong> · downtime{" "}
                        <strong data-testid="move-downtime">{ms(m.result.downtimeMs)}</strong> · {bytes(m.result.transferredBytes)} transferred ({m.result.mode})
                      </p>
                    ) : null}
                    {m.status === "failed" ? <p className="text-rose-800">{m.error}</p> : null}
                  </li>
                ))}
            </ul>
          </div>
        ) : null}
      </div>
    </section>
  );
}
