"use client";

import { useMemo, useState } from "react";
import { explainRule } from "@/lib/policy/rules";
import { ruleConditions, ruleInput, ruleOutcomeValues, type RuleConditions } from "@/lib/policy/input";
import { orderPurposes } from "@/lib/orders/input";
import { fieldErrors } from "@/lib/validation/fields";
import { roles } from "@/lib/users/input";
import { useAction } from "./useAction";

type Named = { id: string; name: string };
type Bounds = "vcpusOver" | "vcpusAtMost" | "memoryGbOver" | "memoryGbAtMost" | "leaseDaysOver" | "leaseDaysAtMost";

const bounds: [Bounds, string][] = [
  ["vcpusOver", "vCPUs over"],
  ["vcpusAtMost", "vCPUs at most"],
  ["memoryGbOver", "Memory (GiB) over"],
  ["memoryGbAtMost", "Memory (GiB) at most"],
  ["leaseDaysOver", "Lease (days) over"],
  ["leaseDaysAtMost", "Lease (days) at most"],
];

const outcomeWords = { approve: "approve automatically", hold: "hold for approval", refuse: "refuse" } as const;

export type State = {
  name: string;
  outcome: string;
  note: string;
  groups: string[];
  roles: string[];
  images: string[];
  purposes: string[];
  os: string;
  licensed: string;
} & Record<Bounds, string>;

const empty: State = {
  name: "", outcome: "hold", note: "", groups: [], roles: [], images: [], purposes: [], os: "", licensed: "",
  vcpusOver: "", vcpusAtMost: "", memoryGbOver: "", memoryGbAtMost: "", leaseDaysOver: "", leaseDaysAtMost: "",
};

function toBody(s: State) {
  const conditions: Record<string, unknown> = {};
  if (s.groups.length) conditions.groups = s.groups;
  if (s.roles.length) conditions.roles = s.roles;
  if (s.images.length) conditions.images = s.images;
  if (s.purposes.length) conditions.purposes = s.purposes;
  if (s.os) conditions.os = s.os;
  if (s.licensed) conditions.licensed = s.licensed === "yes";
  for (const [k] of bounds) if (s[k].trim() !== "") conditions[k] = s[k].trim();
  return { name: s.name, outcome: s.outcome, conditions, ...(s.note.trim() ? { note: s.note.trim() } : {}) };
}

function Boxes({ legend, options, chosen, onChange }: { legend: string; options: { id: string; label: string }[]; chosen: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset>
      <legend className="field-label">{legend}</legend>
      <div className="flex flex-wrap gap-x-4 gap-y-1">
        {options.map((o) => (
          <label key={o.id} className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" checked={chosen.includes(o.id)} onChange={(e) => onChange(e.target.checked ? [...chosen, o.id] : chosen.filter((x) => x !== o.id))} />
            {o.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The form's state for an existing rule. */
export function stateOf(rule: { name: string; outcome: string; note?: string | null; conditions: RuleConditions }): State {
  const c = rule.conditions;
  const num = (n: number | undefined) => (n === undefined ? "" : String(n));
  return {
    name: rule.name, outcome: rule.outcome, note: rule.note ?? "",
    groups: c.groups ?? [], roles: c.roles ?? [], images: c.images ?? [], purposes: c.purposes ?? [],
    os: c.os ?? "", licensed: c.licensed === undefined ? "" : c.licensed ? "yes" : "no",
    vcpusOver: num(c.vcpusOver), vcpusAtMost: num(c.vcpusAtMost), memoryGbOver: num(c.memoryGbOver),
    memoryGbAtMost: num(c.memoryGbAtMost), leaseDaysOver: num(c.leaseDaysOver), leaseDaysAtMost: num(c.leaseDaysAtMost),
  };
}

/**
 * Adds a rule, or changes one (`editing`); the sentence customers and approvers will read is
 * shown as you build it.
 */
export function RuleForm({ groups, images, editing, onDone }: { groups: Named[]; images: Named[]; editing?: { id: string; state: State }; onDone?: () => void }) {
  const action = useAction();
  const [s, setS] = useState<State>(editing?.state ?? empty);
  const prefix = editing ? `rule-${editing.id.slice(0, 8)}` : "rule";
  const [touched, setTouched] = useState(false);
  const set = <K extends keyof State>(k: K, v: State[K]) => {
    setS((x) => ({ ...x, [k]: v }));
    setTouched(true);
  };
  const parsed = ruleInput.safeParse(toBody(s));
  const errors = parsed.success ? {} : fieldErrors(parsed.error);
  const names = useMemo(() => ({ groups: new Map(groups.map((g) => [g.id, g.name])), images: new Map(images.map((i) => [i.id, i.name])) }), [groups, images]);
  // The sentence needs only the outcome and valid conditions, not a name yet.
  const body = toBody(s);
  const conditions = ruleConditions.safeParse(body.conditions);
  const outcome = ruleOutcomeValues.find((o) => o === s.outcome);
  const preview = conditions.success && outcome ? explainRule({ outcome, conditions: conditions.data, note: s.note.trim() || null }, names) : null;
  const err = (k: string) => (touched ? errors[k]?.[0] : undefined) ?? action.fields[k]?.[0];

  return (
    <form
      noValidate
      aria-label={editing ? `Edit rule ${editing.state.name}` : "Add a rule"}
      className="space-y-4"
      onSubmit={async (e) => {
        e.preventDefault();
        setTouched(true);
        if (!parsed.success) return;
        if (editing) {
          // Unset conditions are sent as an empty set, so a cleared condition is removed.
          if (await action.run("update", `/api/v1/policies/${editing.id}`, "PATCH", { ...toBody(s), note: s.note.trim() }, `Saved rule "${s.name}"`)) onDone?.();
          return;
        }
        if (await action.run("create", "/api/v1/policies", "POST", toBody(s), `Added rule "${s.name}"`)) {
          setS(empty);
          setTouched(false);
        }
      }}
    >
      <div className="grid gap-4 sm:grid-cols-3">
        <div className="sm:col-span-2">
          <label htmlFor={`${prefix}-name`} className="field-label">Name</label>
          <input id={`${prefix}-name`} value={s.name} onChange={(e) => set("name", e.target.value)} className="field-input" placeholder="Long leases" aria-invalid={Boolean(err("name"))} />
          {err("name") ? <p className="field-error">{err("name")}</p> : null}
        </div>
        <div>
          <label htmlFor={`${prefix}-outcome`} className="field-label">Then</label>
          <select id={`${prefix}-outcome`} value={s.outcome} onChange={(e) => set("outcome", e.target.value)} className="field-input">
            {ruleOutcomeValues.map((o) => (
              <option key={o} value={o}>{outcomeWords[o]}</option>
            ))}
          </select>
        </div>
      </div>
      <p className="text-xs text-slate-500">When an order matches every condition you set (unset conditions match anything):</p>
      <Boxes legend="Group" options={groups.map((g) => ({ id: g.id, label: g.name }))} chosen={s.groups} onChange={(v) => set("groups", v)} />
      <Boxes legend="Role of the person ordering" options={roles.map((r) => ({ id: r, label: r }))} chosen={s.roles} onChange={(v) => set("roles", v)} />
      <Boxes legend="Image" options={images.map((i) => ({ id: i.id, label: i.name }))} chosen={s.images} onChange={(v) => set("images", v)} />
      <div className="grid gap-4 sm:grid-cols-3">
        <div>
          <label htmlFor={`${prefix}-os`} className="field-label">OS</label>
          <select id={`${prefix}-os`} value={s.os} onChange={(e) => set("os", e.target.value)} className="field-input">
            <option value="">any</option>
            <option value="linux">Linux</option>
            <option value="solaris">Solaris</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${prefix}-licensed`} className="field-label">Licensed image</label>
          <select id={`${prefix}-licensed`} value={s.licensed} onChange={(e) => set("licensed", e.target.value)} className="field-input">
            <option value="">either</option>
            <option value="yes">licensed</option>
            <option value="no">not licensed</option>
          </select>
        </div>
        <Boxes legend="Purpose" options={orderPurposes.map((p) => ({ id: p, label: p }))} chosen={s.purposes} onChange={(v) => set("purposes", v)} />
      </div>
      <div className="grid gap-4 sm:grid-cols-3 lg:grid-cols-6">
        {bounds.map(([k, label]) => (
          <div key={k}>
            <label htmlFor={`${prefix}-${k}`} className="field-label">{label}</label>
            <input id={`${prefix}-${k}`} inputMode="numeric" value={s[k]} onChange={(e) => set(k, e.target.value)} className="field-input" aria-invalid={Boolean(err(`conditions.${k}`))} />
            {err(`conditions.${k}`) ? <p className="field-error">{err(`conditions.${k}`)}</p> : null}
          </div>
        ))}
      </div>
      <div>
        <label htmlFor={`${prefix}-note`} className="field-label">Note (optional, added to the explanation)</label>
        <input id={`${prefix}-note`} value={s.note} onChange={(e) => set("note", e.target.value)} className="field-input" placeholder="licences are paid per core" />
        {err("note") ? <p className="field-error">{err("note")}</p> : null}
      </div>
      <div className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm">
        <span className="text-slate-500">Customers and approvers will read: </span>
        <span className="font-medium text-slate-900" data-testid="rule-preview">{preview ?? "…"}</span>
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={action.busy !== null}>{editing ? "Save rule" : "Add rule"}</button>
        {editing ? <button type="button" className="btn btn-secondary" onClick={onDone}>Cancel</button> : null}
        {action.message ? <p role={action.message.ok ? "status" : "alert"} className={`text-sm ${action.message.ok ? "text-emerald-700" : "text-rose-700"}`}>{action.message.text}</p> : null}
      </div>
    </form>
  );
}
