"use client";

import { useState } from "react";
import type { RuleConditions } from "@/lib/policy/input";
import { RuleForm, stateOf } from "./RuleForm";
import { useAction } from "./useAction";

type RuleRow = {
  id: string;
  name: string;
  position: number;
  enabled: boolean;
  outcome: "approve" | "hold" | "refuse";
  explanation: string;
  conditions: RuleConditions;
  note: string | null;
};
type Named = { id: string; name: string };

const tone = {
  approve: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  hold: "bg-amber-50 text-amber-800 ring-amber-300",
  refuse: "bg-rose-50 text-rose-800 ring-rose-300",
};

/** The rules in the order they are tried: enable, edit, move, delete. */
export function RuleList({ rules, groups, images }: { rules: RuleRow[]; groups: Named[]; images: Named[] }) {
  const action = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  const move = (i: number, by: -1 | 1) => {
    const ids = rules.map((r) => r.id);
    [ids[i], ids[i + by]] = [ids[i + by], ids[i]];
    return action.run("order", "/api/v1/policies/reorder", "POST", { ids }, `Moved "${rules[i].name}" ${by < 0 ? "up" : "down"}`);
  };
  return (
    <div className="space-y-3">
      {rules.length === 0 ? <p className="text-sm text-slate-600" data-testid="rules-empty">No rules yet: every order gets the default below.</p> : null}
      <ol className="space-y-2" aria-label="Approval rules in order">
        {rules.map((r, i) => (
          <li key={r.id} className="card p-3" data-testid="rule-row" data-rule={r.name}>
            <div className={`flex flex-wrap items-center gap-3 ${r.enabled ? "" : "opacity-60"}`}>
            <span className="w-6 text-right font-mono text-sm text-slate-500">{i + 1}.</span>
            <span className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${tone[r.outcome]}`}>{r.outcome}</span>
            <span className="min-w-0 flex-1">
              <span className="block font-medium text-slate-900">{r.name}{r.enabled ? "" : " (disabled)"}</span>
              <span className="block text-sm text-slate-600" data-testid="rule-explanation">{r.explanation}</span>
            </span>
            <label className="flex items-center gap-1.5 text-sm">
              <input type="checkbox" checked={r.enabled} onChange={(e) => action.run("enable", `/api/v1/policies/${r.id}`, "PATCH", { enabled: e.target.checked }, e.target.checked ? `Enabled "${r.name}"` : `Disabled "${r.name}"`)} />
              enabled
            </label>
            <button type="button" className="btn btn-secondary px-2 py-1" disabled={i === 0 || action.busy !== null} onClick={() => move(i, -1)} aria-label={`Move ${r.name} up`}>↑</button>
            <button type="button" className="btn btn-secondary px-2 py-1" disabled={i === rules.length - 1 || action.busy !== null} onClick={() => move(i, 1)} aria-label={`Move ${r.name} down`}>↓</button>
            <button type="button" className="btn btn-secondary px-2 py-1 text-rose-700" disabled={action.busy !== null} onClick={() => action.run("delete", `/api/v1/policies/${r.id}`, "DELETE", undefined, `Deleted "${r.name}"`)} aria-label={`Delete ${r.name}`}>
              Delete
            </button>
            <button type="button" className="btn btn-secondary px-2 py-1" onClick={() => setEditing(editing === r.id ? null : r.id)} aria-expanded={editing === r.id} aria-label={`Edit ${r.name}`}>
              Edit
            </button>
            </div>
            {editing === r.id ? (
              <div className="mt-3 border-t border-slate-100 pt-3">
                <RuleForm groups={groups} images={images} editing={{ id: r.id, state: stateOf(r) }} onDone={() => setEditing(null)} />
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {action.message ? <p role={action.message.ok ? "status" : "alert"} className={`text-sm ${action.message.ok ? "text-emerald-700" : "text-rose-700"}`}>{action.message.text}</p> : null}
    </div>
  );
}
