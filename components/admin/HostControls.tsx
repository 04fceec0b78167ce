"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { hostStates, stepNames } from "@/lib/hosts/input";
import { api } from "../api-client";

/**
 * Per host: drain or reactivate it; on sim hosts, make named steps fail the next N times
 * (failure injection for demos and tests of retry).
 */
export function HostControls({
  hostId,
  hostName,
  kind,
  state,
  failSteps,
}: {
  hostId: string;
  hostName: string;
  kind: string;
  state: string;
  failSteps: Record<string, number>;
}) {
  const router = useRouter();
  const [step, setStep] = useState("glue");
  const [times, setTimes] = useState("1");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function patch(body: unknown) {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/hosts/${hostId}`, { method: "PATCH", body });
    setBusy(false);
    if (!res.ok) setError(res.fields ? Object.values(res.fields).flat()[0] ?? res.error : res.error);
    router.refresh();
  }

  const injected = Object.entries(failSteps).filter(([, n]) => n > 0);
  return (
    <div className="space-y-2 text-xs">
      <label className="flex items-center gap-2">
        <span className="text-slate-500">State</span>
        <select
          value={state}
          disabled={busy}
          onChange={(e) => patch({ state: e.target.value })}
          className="rounded border border-slate-300 bg-white px-1.5 py-1"
          aria-label={`State of ${hostName}`}
        >
          {hostStates.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </label>
      {kind === "sim" ? (
        <fieldset className="space-y-1 rounded-md border border-slate-200 p-2" data-testid="failure-injection">
          <legend className="px-1 font-medium text-slate-700">Failure injection (simulated host)</legend>
          <p className="text-slate-500">Makes the next deliveries on {hostName} fail at one step, to try retries.</p>
          {injected.length ? (
            <p className="text-amber-800">
              Failing: {injected.map(([s, n]) => `${s} ×${n}`).join(", ")}{" "}
              <button type="button" className="font-medium text-sky-700 hover:underline" disabled={busy} onClick={() => patch({ failSteps: {} })}>
                clear
              </button>
            </p>
          ) : null}
          <div className="flex flex-wrap items-end gap-2">
            <label className="flex flex-col gap-0.5">
              <span className="text-slate-600">Fail the next step at</span>
              <select value={step} onChange={(e) => setStep(e.target.value)} className="rounded border border-slate-300 bg-white px-1.5 py-1" aria-label={`Fail the next step at, on ${hostName}`}>
                {stepNames.map((s) => (
                  <option key={s} value={s}>{s}</option>
                ))}
              </select>
            </label>
            <label className="flex flex-col gap-0.5">
              <span className="text-slate-600">Times</span>
              <input
                type="number"
                min={1}
                max={10}
                value={times}
                onChange={(e) => setTimes(e.target.value)}
                className="w-16 rounded border border-slate-300 px-1.5 py-1"
                aria-label={`Times, on ${hostName}`}
              />
            </label>
            <button
              type="button"
              className="rounded border border-slate-300 bg-white px-2 py-1 font-medium whitespace-nowrap text-slate-700 hover:bg-slate-50"
              disabled={busy}
              onClick={() => patch({ failSteps: { ...failSteps, [step]: Number(times) } })}
            >
              Inject failure
            </button>
          </div>
        </fieldset>
      ) : null}
      {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
    </div>
  );
}
