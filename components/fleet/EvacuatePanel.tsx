"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { EvacuationView } from "@/lib/fleet/queries";
import { DEFAULT_PARALLEL_MOVES, evacuateInput, MAX_PARALLEL_MOVES } from "@/lib/fleet/input";
import { api } from "../api-client";
import { EvacuationProgress } from "./EvacuationProgress";
import { useEvacuationStream } from "./useEvacuationStream";

type Props = {
  hostId: string;
  hostName: string;
  hostKind: string;
  /** Environments on the host now. */
  environments: number;
  /** The host's latest evacuation, if it had one. */
  latest: EvacuationView | null;
};

/**
 * "Evacuate" on a host's page (admins): after a confirmation that says what happens, the host
 * drains and its environments move off it; the page follows the evacuation live (its event
 * stream) with each move's progress and downtime, and says at the end what could not move.
 */
export function EvacuatePanel({ hostId, hostName, hostKind, environments, latest }: Props) {
  const router = useRouter();
  const { view, mode, follow } = useEvacuationStream(latest);
  const [confirming, setConfirming] = useState(false);
  const [parallel, setParallel] = useState(String(DEFAULT_PARALLEL_MOVES));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const running = view?.status === "running";
  // The host's state (draining, offline) and what it holds changed with the end of the evacuation.
  const [wasRunning, setWasRunning] = useState(running);
  useEffect(() => {
    if (wasRunning && !running) router.refresh();
    setWasRunning(running);
  }, [running, wasRunning, router]);

  async function evacuate(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setFieldError(null);
    const parsed = evacuateInput.safeParse({ parallel: Number(parallel) });
    if (!parsed.success || parallel.trim() === "") {
      setFieldError(parsed.success ? `Moves at a time: a whole number from 1 to ${MAX_PARALLEL_MOVES}` : parsed.error.issues[0]!.message);
      return;
    }
    setBusy(true);
    const res = await api<EvacuationView>(`/api/v1/hosts/${hostId}/evacuate`, { method: "POST", body: parsed.data });
    setBusy(false);
    if (!res.ok) {
      if (res.fields?.parallel?.length) setFieldError(res.fields.parallel[0]!);
      else setError(res.error);
      return;
    }
    setConfirming(false);
    follow(res.data);
    router.refresh();
  }

  async function stop() {
    if (!view) return;
    setError(null);
    setBusy(true);
    const res = await api<EvacuationView>(`/api/v1/evacuations/${view.id}/stop`, { method: "POST" });
    setBusy(false);
    if (!res.ok) {
      setError(res.error);
      return;
    }
    follow(res.data);
  }

  const cold = hostKind === "zones";
  return (
    <section className="card" aria-labelledby="evacuate-heading" data-testid="evacuate-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="evacuate-heading" className="text-base">Maintenance</h2>
        {!confirming && !running ? (
          <button type="button" className="btn btn-secondary w-full sm:w-auto" onClick={() => setConfirming(true)}>
            Evacuate…
          </button>
        ) : null}
        {running && view && view.counts.pending > 0 ? (
          <button type="button" className="btn btn-secondary w-full sm:w-auto" disabled={busy} onClick={stop} title="Moves not yet started stay; those under way finish">
            {busy ? "Stopping…" : "Stop moving"}
          </button>
        ) : null}
      </div>
      <div className="space-y-4 px-5 py-4 text-sm">
        {confirming ? (
          <form onSubmit={evacuate} className="space-y-3 rounded-md border border-amber-300 bg-amber-50 p-4" aria-label={`Evacuate ${hostName}`} noValidate>
            <p className="font-medium text-slate-900">Evacuate {hostName}?</p>
            <p className="text-slate-700">
              It is drained at once (no new environments), then its {environments} environment{environments === 1 ? "" : "s"} move to other active {hostKind} hosts chosen by placement:{" "}
              {cold
                ? "zones move cold (halted, copied, booted again: down meanwhile), after their owners are told."
                : "running guests migrate live and keep running; stopped ones move cold and stay stopped."}{" "}
              Once nothing is left on it, it goes offline; what cannot move stays, with the reason.
            </p>
            <label className="flex flex-col gap-1 sm:w-48">
              <span className="text-slate-700">Moves at a time</span>
              <input
                type="number"
                inputMode="numeric"
                min={1}
                max={MAX_PARALLEL_MOVES}
                className="field-input"
                value={parallel}
                onChange={(e) => setParallel(e.target.value)}
                aria-invalid={fieldError ? true : undefined}
                aria-describedby={fieldError ? "evacuate-parallel-error" : undefined}
              />
              {fieldError ? <span id="evacuate-parallel-error" className="text-xs text-rose-700">{fieldError}</span> : null}
            </label>
            <div className="flex flex-wrap gap-2">
              <button type="submit" className="btn btn-danger w-full sm:w-auto" disabled={busy}>
                {busy ? "Starting…" : `Evacuate ${hostName}`}
              </button>
              <button type="button" className="btn btn-secondary w-full sm:w-auto" disabled={busy} onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          </form>
        ) : null}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
        {view ? (
          <div>
            <h3 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">{running ? "Evacuation in progress" : "Latest evacuation"}</h3>
            <EvacuationProgress view={view} mode={mode} />
          </div>
        ) : !confirming ? (
          <p className="text-slate-600">
            {environments === 0
              ? "It holds no environment now: evacuating it takes it offline at once."
              : `Before maintenance, evacuate it: its ${environments} environment${environments === 1 ? "" : "s"} move to other hosts and it goes offline.`}
          </p>
        ) : null}
      </div>
    </section>
  );
}
