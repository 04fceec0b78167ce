"use client";

import { useState } from "react";
import type { OrderView } from "@/lib/orders/queries";
import { StatusBadge } from "../StatusBadge";
import { formatDuration, formatTime } from "../format";

export type StepView = OrderView["steps"][number];

const phaseInfo: Record<string, { title: string; description: string }> = {
  mk_image: { title: "mk_image", description: "Prepare the image for the chosen host" },
  mk_virtual: { title: "mk_virtual", description: "Build, network and boot the environment" },
  teardown: { title: "teardown", description: "Stop the guest, remove it, free its addresses" },
};

function StepIcon({ status }: { status: string }) {
  const base = "grid size-6 shrink-0 place-items-center rounded-full text-xs font-bold";
  switch (status) {
    case "succeeded":
      return <span aria-hidden className={`${base} bg-emerald-600 text-white`}>✓</span>;
    case "failed":
      return <span aria-hidden className={`${base} bg-rose-600 text-white`}>✕</span>;
    case "running":
      return (
        <span aria-hidden className={`${base} border-2 border-indigo-200 bg-white`}>
          <span className="size-3.5 animate-spin rounded-full border-2 border-indigo-600 border-t-transparent" />
        </span>
      );
    case "skipped":
      return <span aria-hidden className={`${base} bg-slate-200 text-slate-500`}>–</span>;
    default:
      return <span aria-hidden className={`${base} border-2 border-slate-300 bg-white`} />;
  }
}

export type RecipeStepRow = { name: string; label: string; status: string; startedAt: string | null; finishedAt: string | null };

/** The recipe's own steps, under wait-until-ready: each with its state and time (from the guest's console). */
function RecipeSteps({ steps, recipeName }: { steps: RecipeStepRow[]; recipeName: string }) {
  return (
    <ol className="mt-2 space-y-1.5 border-l-2 border-indigo-100 pl-3" aria-label={`Steps of the recipe ${recipeName}`} data-testid="recipe-steps">
      {steps.map((r) => (
        <li key={r.name} className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm" data-testid="recipe-step" data-step={r.name} data-status={r.status}>
          <StepIcon status={r.status} />
          <span className={r.status === "pending" ? "text-slate-500" : "text-slate-900"}>{r.label}</span>
          <StatusBadge status={r.status} />
          <span className="ml-auto text-xs text-slate-500">
            {r.startedAt && r.finishedAt
              ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt))
              : r.startedAt
                ? `since ${formatTime(r.startedAt)}`
                : null}
          </span>
        </li>
      ))}
    </ol>
  );
}

function StepRow({ step, last, recipe }: { step: StepView; last: boolean; recipe?: { name: string; steps: RecipeStepRow[] } | null }) {
  // The running (or failed) step's log is open unless the user closed it; others open on demand.
  const [override, setOverride] = useState<boolean | null>(null);
  const open = override ?? (step.status === "running" || step.status === "failed");
  const logId = `log-${step.phase}-${step.name}`;
  const hasLog = step.log.length > 0;
  return (
    <li className="relative flex gap-3 pb-4" data-testid="pipeline-step" data-step={step.name} data-status={step.status}>
      {!last ? <span aria-hidden className="absolute top-7 bottom-0 left-3 w-px bg-slate-200" /> : null}
      <StepIcon status={step.status} />
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <span className={`text-sm font-medium ${step.status === "pending" ? "text-slate-500" : "text-slate-900"}`}>{step.label}</span>
          <code className="text-xs text-slate-400">{step.name}</code>
          <StatusBadge status={step.status} />
          <span className="ml-auto flex items-center gap-3 text-xs text-slate-500">
            {step.attempt > 0 ? <span>attempt {step.attempt}</span> : null}
            {step.durationMs !== null ? <span>{formatDuration(step.durationMs)}</span> : step.startedAt ? <span>since {formatTime(step.startedAt)}</span> : null}
            {hasLog ? (
              <button
                type="button"
                className="rounded px-1.5 py-0.5 font-medium text-sky-700 hover:bg-sky-50"
                aria-expanded={open}
                aria-controls={logId}
                onClick={() => setOverride(!open)}
              >
                {open ? "Hide log" : `Show log (${step.log.length})`}
              </button>
            ) : null}
          </span>
        </div>
        {step.error ? <p className="mt-1 text-sm text-rose-700">{step.error}</p> : null}
        {recipe && step.name === "wait_ready" && recipe.steps.length ? <RecipeSteps steps={recipe.steps} recipeName={recipe.name} /> : null}
        {hasLog && open ? (
          <ol id={logId} className="mt-2 max-h-64 overflow-auto rounded-md bg-slate-900 px-3 py-2 font-mono text-xs leading-relaxed text-slate-100" aria-label={`Log of ${step.label}`}>
            {step.worker ? (
              <li className="text-slate-400" data-testid="step-worker">
                on worker {step.worker}
              </li>
            ) : null}
            {step.log.map((l, i) => (
              <li key={i} className="whitespace-pre-wrap">
                <span className="text-slate-500 select-none">{formatTime(l.at)} </span>
                {l.attempt > 1 ? <span className="text-amber-300 select-none">#{l.attempt} </span> : null}
                <span className={l.line.startsWith("error:") ? "text-rose-300" : ""}>{l.line}</span>
              </li>
            ))}
          </ol>
        ) : null}
      </div>
    </li>
  );
}

/** The pipeline's steps grouped by phase, in order. */
export function StepTimeline({ steps, recipe = null }: { steps: StepView[]; recipe?: { name: string; steps: RecipeStepRow[] } | null }) {
  const phases: string[] = [];
  for (const s of steps) if (!phases.includes(s.phase)) phases.push(s.phase);
  return (
    <div className="space-y-6">
      {phases.map((phase) => {
        const inPhase = steps.filter((s) => s.phase === phase);
        const done = inPhase.filter((s) => s.status === "succeeded" || s.status === "skipped").length;
        const info = phaseInfo[phase] ?? { title: phase, description: "" };
        return (
          <section key={phase} aria-label={`Phase ${info.title}`} data-testid={`phase-${phase}`}>
            <div className="mb-3 flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 border-b border-slate-100 pb-2">
              <h3>
                <code className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-800">{info.title}</code>
                <span className="ml-2 font-normal text-slate-500">{info.description}</span>
              </h3>
              <span className="text-xs text-slate-500">{done} of {inPhase.length} done</span>
            </div>
            <ol>
              {inPhase.map((s, i) => (
                <StepRow key={`${s.phase}-${s.name}`} step={s} last={i === inPhase.length - 1} recipe={recipe} />
              ))}
            </ol>
          </section>
        );
      })}
    </div>
  );
}
