"use client";

import { useState } from "react";
import type { EvacuationView } from "@/lib/fleet/queries";
import type { RebalancePlan } from "@/lib/fleet/rebalance";
import { api } from "../api-client";
import { formatMemory, hostKindLabels } from "../format";
import { EvacuationProgress } from "./EvacuationProgress";
import { useEvacuationStream } from "./useEvacuationStream";

type Props = {
  /** Host kinds with how many active hosts each has. */
  kinds: { kind: string; active: number }[];
  /** The latest rebalance run, if any. */
  latest: EvacuationView | null;
};

function Bar({ percent, tone }: { percent: number; tone: string }) {
  return (
    <div className="h-2 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden>
      <div className={`h-full rounded-full ${tone}`} style={{ width: `${Math.min(100, Math.max(0, percent))}%` }} />
    </div>
  );
}

/**
 * Rebalance (admins): choose a host kind, see the plan (which environments move where, each
 * host's memory use before and after), then run exactly these moves; the run is followed live
 * like an evacuation. A plan made stale by a change in the fleet is refused and shown anew.
 */
export function RebalancePanel({ kinds, latest }: Props) {
  const first = kinds.find((k) => k.active >= 2)?.kind ?? kinds[0]?.kind ?? "sim";
  const [kind, setKind] = useState(first);
  const [plan, setPlan] = useState<RebalancePlan | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { view, mode, follow } = useEvacuationStream(latest);

  async function showPlan(k = kind) {
    setBusy(true);
    setError(null);
    const res = await api<RebalancePlan>("/api/v1/rebalance", { method: "POST", body: { kind: k, dryRun: true } });
    setBusy(false);
    if (!res.ok) return setError(res.error);
    setPlan(res.data);
  }

  async function run() {
    if (!plan) return;
    setBusy(true);
    setError(null);
    const res = await api<EvacuationView>("/api/v1/rebalance", { method: "POST", body: { kind: plan.kind, dryRun: false, fingerprint: plan.fingerprint } });
    setBusy(false);
    if (!res.ok) {
      setError(res.error);
      // The fleet changed: the plan shown is not what would run; show the new one.
      if (res.status === 409) await showPlan(plan.kind);
      return;
    }
    setPlan(null);
    follow(res.data);
  }

  const running = view?.status === "running";
  return (
    <div className="space-y-6">
      <section className="card p-5" aria-labelledby="plan-heading">
        <h2 id="plan-heading" className="mb-3 text-base">Plan</h2>
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            void showPlan();
          }}
        >
          <label className="flex w-full flex-col gap-1 text-sm sm:w-56">
            <span className="text-slate-700">Host kind</span>
            <select className="field-input" value={kind} onChange={(e) => setKind(e.target.value)} disabled={busy}>
              {kinds.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {hostKindLabels[k.kind] ?? k.kind} ({k.active} active)
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="btn btn-secondary w-full sm:w-auto" disabled={busy}>
            {busy && !plan ? "Planning…" : "Show plan"}
          </button>
        </form>
        {error ? <p role="alert" className="mt-3 text-sm text-rose-700">{error}</p> : null}
        {plan ? (
          <div className="mt-4 space-y-4 text-sm" data-testid="rebalance-plan" data-moves={plan.moves.length}>
            <p className="text-slate-700" data-testid="rebalance-spread">
              Memory use differs by {plan.spread.before} points between the fullest and the emptiest host
              {plan.moves.length ? `; after ${plan.moves.length === 1 ? "this move" : `these ${plan.moves.length} moves`}, by ${plan.spread.after}` : ""}.
            </p>
            <ul className="space-y-3" aria-label="Memory per host, before and after">
              {plan.hosts.map((h) => (
                <li key={h.id} className="rounded-md border border-slate-200 p-3" data-testid="rebalance-host" data-host={h.name}>
                  <p className="font-medium wrap-anywhere text-slate-900">{h.name}</p>
                  <div className="mt-2 grid grid-cols-[4rem_1fr] items-center gap-x-3 gap-y-1 text-xs">
                    <span className="text-slate-500">Before</span>
                    <div>
                      <Bar percent={h.before.percent} tone="bg-slate-400" />
                      <span data-testid="rebalance-before">{formatMemory(h.before.memoryMb)} of {formatMemory(h.memoryMbCapacity)} ({h.before.percent} %), {h.before.environments} env.</span>
                    </div>
                    <span className="text-slate-500">After</span>
                    <div>
                      <Bar percent={h.after.percent} tone="bg-sky-500" />
                      <span data-testid="rebalance-after">{formatMemory(h.after.memoryMb)} of {formatMemory(h.memoryMbCapacity)} ({h.after.percent} %), {h.after.environments} env.</span>
                    </div>
                  </div>
                </li>
              ))}
            </ul>
            {plan.moves.length ? (
              <div>
                <h3 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">Moves</h3>
                <ol className="list-decimal space-y-1 pl-5" data-testid="rebalance-moves">
                  {plan.moves.map((m) => (
                    <li key={m.environmentId} className="wrap-anywhere">
                      <strong>{m.hostname}</strong> ({formatMemory(m.memoryMb)}): {m.from.name} → {m.to.name}, {m.mode === "live" ? "live" : "cold (down while it moves; its owner is told)"}
                    </li>
                  ))}
                </ol>
              </div>
            ) : null}
            {plan.notes.length ? (
              <ul className="list-disc space-y-1 pl-5 text-slate-600" data-testid="rebalance-notes">
                {plan.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            ) : null}
            {plan.moves.length ? (
              <button type="button" className="btn btn-primary w-full sm:w-auto" disabled={busy || running} onClick={() => void run()}>
                {busy ? "Starting…" : "Run these moves"}
              </button>
            ) : null}
            {running ? <p className="text-xs text-slate-500">A rebalance is running; wait until it has finished.</p> : null}
          </div>
        ) : null}
      </section>
      {view ? (
        <section className="card p-5" aria-labelledby="run-heading">
          <h2 id="run-heading" className="mb-3 text-base">{running ? "Rebalance in progress" : "Latest rebalance"}</h2>
          <EvacuationProgress view={view} mode={mode} />
        </section>
      ) : null}
    </div>
  );
}
