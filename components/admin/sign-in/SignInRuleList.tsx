"use client";

import { useState } from "react";
import { useAction } from "../../policy/useAction";
import { SignInRuleForm, type SignInRuleRow } from "./SignInRuleForm";

/** The mapping rules: what each group gives, with edit and delete. */
export function SignInRuleList({ rules, groups }: { rules: SignInRuleRow[]; groups: { slug: string; name: string }[] }) {
  const action = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <div className="space-y-2">
      {rules.length === 0 ? (
        <p className="text-sm text-slate-600" data-testid="sign-in-rules-empty">
          No rules yet: everyone who signs in through the directory or single sign-on gets no access until a rule maps one of their groups.
        </p>
      ) : null}
      <ul className="space-y-2" aria-label="Mapping rules">
        {rules.map((r) => (
          <li key={r.id} className="card p-3" data-testid="sign-in-rule" data-match={r.match}>
            <div className="flex flex-wrap items-center gap-x-3 gap-y-2">
              <code className="min-w-0 flex-1 basis-full text-sm break-all text-slate-900 sm:basis-0">{r.match}</code>
              <span className="text-sm text-slate-700" data-testid="sign-in-rule-grants">
                → <span className="font-medium capitalize">{r.role}</span>
                {r.group ? <> in <span className="font-medium">{r.group.name}</span></> : null}
              </span>
              <span className="flex gap-2">
                <button type="button" className="btn btn-secondary px-2 py-1" onClick={() => setEditing(editing === r.id ? null : r.id)} aria-expanded={editing === r.id} aria-label={`Edit the rule for ${r.match}`}>
                  Edit
                </button>
                <button
                  type="button"
                  className="btn btn-secondary px-2 py-1 text-rose-700"
                  disabled={action.busy !== null}
                  onClick={() => action.run(r.id, `/api/v1/sign-in/rules/${r.id}`, "DELETE", undefined, `Deleted the rule for ${r.match}`)}
                  aria-label={`Delete the rule for ${r.match}`}
                >
                  Delete
                </button>
              </span>
            </div>
            {editing === r.id ? (
              <div className="mt-3 border-t border-slate-100 pt-3">
                <SignInRuleForm groups={groups} editing={r} onDone={() => setEditing(null)} />
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      {action.message ? <p role={action.message.ok ? "status" : "alert"} className={`text-sm ${action.message.ok ? "text-emerald-700" : "text-rose-700"}`}>{action.message.text}</p> : null}
    </div>
  );
}
