"use client";

import { useState } from "react";
import type { PlanJson } from "@/lib/drivers/plan/render";
import { api } from "../api-client";

type PlanAnswer = {
  host: { name: string; kind: string };
  placement: string;
  addresses: { network: string; ip: string; mac: string; bridge: string }[];
  plan: PlanJson | null;
  text: string | null;
  message: string;
};

/**
 * Admins only: the dry run of the order being filled in. Asks POST /api/v1/plan for the exact
 * commands and files the deployment would run on the host placement would choose, and shows
 * them per pipeline step. Nothing runs and nothing is reserved.
 */
export function ShowCommands({ input, ready, hosts }: { input: Record<string, unknown>; ready: boolean; hosts: { name: string; kind: string; state: string }[] }) {
  const [answer, setAnswer] = useState<PlanAnswer | null>(null);
  const [answeredFor, setAnsweredFor] = useState<string | null>(null);
  const [host, setHost] = useState("");
  const body = { ...input, ...(host && hosts.some((h) => h.name === host) ? { host } : {}) };
  const current = JSON.stringify(body);
  const [error, setError] = useState<{ message: string; fields: Record<string, string[]> } | null>(null);
  const [loading, setLoading] = useState(false);

  async function show() {
    setLoading(true);
    setError(null);
    const res = await api<PlanAnswer>("/api/v1/plan", { method: "POST", body });
    setLoading(false);
    setAnsweredFor(current);
    if (res.ok) setAnswer(res.data);
    else {
      setAnswer(null);
      setError({ message: res.error, fields: res.fields ?? {} });
    }
  }

  return (
    <section className="card p-6 lg:col-span-3" aria-labelledby="show-commands-title">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="show-commands-title" className="text-base">Commands this order would run</h2>
          <p className="text-sm text-slate-600">Admins only. A dry run on the host placement would choose: nothing is run or reserved.</p>
        </div>
        <div className="flex w-full flex-wrap items-end gap-3 sm:w-auto">
          <div className="w-full sm:w-auto">
            <label htmlFor="plan-host" className="field-label">Plan on host</label>
            <select id="plan-host" className="field-input" value={host} onChange={(e) => setHost(e.target.value)}>
              <option value="">The one placement would choose</option>
              {hosts.map((h) => (
                <option key={h.name} value={h.name}>
                  {h.name} ({h.kind}{h.state === "active" ? "" : `, ${h.state}`})
                </option>
              ))}
            </select>
          </div>
        <button type="button" className="btn btn-secondary w-full sm:w-auto" onClick={show} disabled={!ready || loading} title={ready ? undefined : "Fill in image, size and name first"}>
          {loading ? "Planning…" : "Show commands"}
        </button>
        </div>
      </div>

      {!ready ? <p className="mt-3 text-sm text-slate-500">Choose an image and a size and enter a valid name to see the commands.</p> : null}

      {error ? (
        <div role="alert" className="mt-4 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700">
          <p>{error.message}</p>
          {Object.entries(error.fields).map(([field, messages]) => (
            <p key={field}>
              {field}: {messages.join("; ")}
            </p>
          ))}
        </div>
      ) : null}

      {answer && answeredFor !== current ? (
        <p className="mt-3 text-sm text-amber-700">The form has changed since: press Show commands again for the current order.</p>
      ) : null}

      {answer ? (
        <div className="mt-4 space-y-4" data-testid="plan-result">
          <p className="text-sm text-slate-700">
            <span className="font-medium">{answer.host.name}</span> ({answer.host.kind}): {answer.placement}
          </p>
          <p className="text-sm text-slate-700">{answer.message}</p>
          {answer.addresses.length ? (
            <p className="text-sm text-slate-600">
              Addresses it would get now: {answer.addresses.map((a) => `${a.ip} (${a.mac}) on ${a.network}/${a.bridge}`).join(", ")}
            </p>
          ) : null}
          {answer.plan ? (
            <>
              <p role="note" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800">
                {answer.plan.notice}
              </p>
              <ol className="space-y-4">
                {answer.plan.steps.map((step) => (
                  <li key={step.step} data-testid={`plan-step-${step.step}`}>
                    <h3 className="text-sm font-semibold text-slate-900">
                      <span className="font-mono">{step.step}</span>: {step.description}
                    </h3>
                    {step.actions.length === 0 ? <p className="text-sm text-slate-500">No commands on the host.</p> : null}
                    <ul className="mt-1 space-y-2">
                      {step.actions.map((a, i) => (
                        <li key={i}>
                          <p className="text-xs text-slate-500">{a.description}</p>
                          {a.kind === "command" ? (
                            <pre className="overflow-x-auto rounded bg-slate-900 px-3 py-2 text-xs text-slate-100">$ {a.command}</pre>
                          ) : (
                            <>
                              <p className="font-mono text-xs text-slate-700">
                                file {a.path} (mode {a.mode})
                              </p>
                              <pre className="overflow-x-auto rounded bg-slate-100 px-3 py-2 text-xs text-slate-800">{a.content}</pre>
                            </>
                          )}
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ol>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
