"use client";

import { useState, type ReactNode } from "react";
import { memberRoles, quotaLimitsForm } from "@/lib/policy/input";
import { fieldErrors } from "@/lib/validation/fields";
import { useAction } from "./useAction";

type Option = { id: string; label: string; detail?: string };
type Limits = { environments: number | null; vcpus: number | null; memoryGb: number | null; diskGb: number | null; licensedCores: number | null };

export type GroupEditorProps = {
  group: {
    id: string;
    slug: string;
    name: string;
    kind: string;
    autoApprove: boolean;
    settings: { imageIds: string[]; flavorIds: string[]; networkIds: string[]; hostIds: string[]; hostTags: string[] };
    quota: Limits;
    members: { userId: string; email: string; name: string; userRole: string; role: "customer" | "approver" }[];
  };
  images: Option[];
  flavors: Option[];
  networks: Option[];
  hosts: Option[];
  /** The id of the page's one datalist of users' e-mails (rendered once, not per group). */
  emailList: string;
};

const limitFields: [keyof Limits, string][] = [
  ["environments", "Environments"],
  ["vcpus", "vCPUs"],
  ["memoryGb", "Memory (GiB)"],
  ["diskGb", "Disk (GB)"],
  ["licensedCores", "Licensed cores"],
];

function Status({ m, k }: { m: { ok: boolean; text: string; key: string } | null; k: string }) {
  if (!m || m.key !== k) return null;
  return <p role={m.ok ? "status" : "alert"} className={`text-sm ${m.ok ? "text-emerald-700" : "text-rose-700"}`}>{m.text}</p>;
}

function Block({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <div className="border-t border-slate-100 pt-4">
      <h4 className="text-sm font-semibold text-slate-800">{title}</h4>
      {hint ? <p className="mb-2 text-xs text-slate-500">{hint}</p> : null}
      {children}
    </div>
  );
}

function Checklist({ name, options, chosen, onChange }: { name: string; options: Option[]; chosen: string[]; onChange: (ids: string[]) => void }) {
  return (
    <fieldset className="grid gap-1 sm:grid-cols-2" aria-label={name}>
      {options.map((o) => (
        <label key={o.id} className="flex items-start gap-2 text-sm">
          <input
            type="checkbox"
            className="mt-1"
            checked={chosen.includes(o.id)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, o.id] : chosen.filter((x) => x !== o.id))}
          />
          <span>
            {o.label}
            {o.detail ? <span className="block text-xs text-slate-500">{o.detail}</span> : null}
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/** Everything an admin sets on one group: approval, members, quota, what it may order, its hosts. */
export function GroupEditor({ group, images, flavors, networks, hosts, emailList }: GroupEditorProps) {
  const action = useAction();
  const base = `/api/v1/groups/${group.id}`;
  const [autoApprove, setAutoApprove] = useState(group.autoApprove);
  const [limits, setLimits] = useState<Record<keyof Limits, string>>(
    Object.fromEntries(limitFields.map(([k]) => [k, group.quota[k] === null ? "" : String(group.quota[k])])) as Record<keyof Limits, string>,
  );
  const [offer, setOffer] = useState({ imageIds: group.settings.imageIds, flavorIds: group.settings.flavorIds, networkIds: group.settings.networkIds });
  const [hostIds, setHostIds] = useState(group.settings.hostIds);
  const [tags, setTags] = useState(group.settings.hostTags.join(", "));
  const [newMember, setNewMember] = useState<{ email: string; role: string }>({ email: "", role: "customer" });

  const parsedLimits = quotaLimitsForm.safeParse(limits);
  const limitErrors = parsedLimits.success ? {} : fieldErrors(parsedLimits.error);
  const limitError = (k: string) => limitErrors[k]?.[0] ?? (action.message?.key === "quota" ? action.fields[k]?.[0] : undefined);
  const id = (f: string) => `group-${group.slug}-${f}`;

  return (
    <article className="card space-y-4 p-5" data-testid="group-card" data-group={group.slug} aria-labelledby={id("title")}>
      <header className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 id={id("title")} className="text-base">
          {group.name} <code className="text-xs text-slate-500">{group.slug}</code>{" "}
          <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">{group.kind}</span>
        </h3>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={autoApprove}
            onChange={async (e) => {
              setAutoApprove(e.target.checked);
              await action.run("approve", base, "PATCH", { autoApprove: e.target.checked }, e.target.checked ? "Orders are approved automatically unless a rule holds them" : "Orders wait for an approver unless a rule approves them");
            }}
          />
          Auto-approve customers&apos; orders
        </label>
      </header>
      <Status m={action.message} k="approve" />

      <Block title={`Members (${group.members.length})`} hint="Approvers decide on the group's held orders; customers order in it.">
        {group.members.length === 0 ? <p className="text-sm text-slate-500">No members yet.</p> : null}
        <ul className="space-y-1 text-sm">
          {group.members.map((m) => (
            <li key={m.userId} className="flex flex-wrap items-center justify-between gap-2" data-testid="group-member">
              <span>
                {m.email} <span className="text-xs text-slate-500">({m.userRole})</span>
              </span>
              <span className="flex items-center gap-2">
                <select
                  aria-label={`Role of ${m.email} in ${group.name}`}
                  value={m.role}
                  className="field-input w-auto py-1"
                  onChange={(e) => action.run("members", `${base}/members`, "PUT", { email: m.email, role: e.target.value }, `${m.email} is now ${e.target.value}`)}
                >
                  {memberRoles.map((r) => (
                    <option key={r} value={r}>{r}</option>
                  ))}
                </select>
                <button
                  type="button"
                  className="btn btn-secondary py-1 text-rose-700"
                  onClick={() => action.run("members", `${base}/members/${m.userId}`, "DELETE", undefined, `Removed ${m.email}`)}
                  aria-label={`Remove ${m.email} from ${group.name}`}
                >
                  Remove
                </button>
              </span>
            </li>
          ))}
        </ul>
        <form
          className="mt-3 flex flex-wrap items-end gap-2"
          aria-label={`Add a member to ${group.name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            if (await action.run("members", `${base}/members`, "PUT", newMember, `Added ${newMember.email}`)) setNewMember({ email: "", role: "customer" });
          }}
        >
          <div className="min-w-56 flex-1">
            <label htmlFor={id("member-email")} className="field-label">User e-mail</label>
            <input id={id("member-email")} list={emailList} value={newMember.email} onChange={(e) => setNewMember({ ...newMember, email: e.target.value })} className="field-input" autoComplete="off" />
          </div>
          <div>
            <label htmlFor={id("member-role")} className="field-label">Role</label>
            <select id={id("member-role")} value={newMember.role} onChange={(e) => setNewMember({ ...newMember, role: e.target.value })} className="field-input">
              {memberRoles.map((r) => (
                <option key={r} value={r}>{r}</option>
              ))}
            </select>
          </div>
          <button type="submit" className="btn btn-secondary" disabled={action.busy !== null}>Add member</button>
        </form>
        {action.message?.key === "members" && action.fields.email ? <p className="field-error">{action.fields.email[0]}</p> : null}
        <Status m={action.message} k="members" />
      </Block>

      <Block title="Quota" hint="Counted over the group's orders that are not rejected, cancelled or retired. Empty: no limit.">
        <form
          className="space-y-3"
          aria-label={`Quota of ${group.name}`}
          onSubmit={(e) => {
            e.preventDefault();
            if (parsedLimits.success) void action.run("quota", `/api/v1/quotas/groups/${group.id}`, "PUT", parsedLimits.data, "Quota saved");
          }}
        >
          <div className="grid gap-3 sm:grid-cols-5">
            {limitFields.map(([k, label]) => (
              <div key={k}>
                <label htmlFor={id(`quota-${k}`)} className="field-label">{label}</label>
                <input
                  id={id(`quota-${k}`)}
                  inputMode="numeric"
                  value={limits[k]}
                  placeholder="no limit"
                  onChange={(e) => setLimits({ ...limits, [k]: e.target.value })}
                  className="field-input"
                  aria-invalid={Boolean(limitError(k))}
                />
                {limitError(k) ? <p className="field-error">{limitError(k)}</p> : null}
              </div>
            ))}
          </div>
          <div className="flex items-center gap-3">
            <button type="submit" className="btn btn-secondary" disabled={action.busy !== null || !parsedLimits.success}>Save quota</button>
            <Status m={action.message} k="quota" />
          </div>
        </form>
      </Block>

      <Block title="What the group may order" hint="Nothing ticked in a list: everything in the catalog.">
        <div className="grid gap-4 lg:grid-cols-3">
          <div>
            <p className="mb-1 text-xs font-medium text-slate-600">Images</p>
            <Checklist name={`Images for ${group.name}`} options={images} chosen={offer.imageIds} onChange={(imageIds) => setOffer({ ...offer, imageIds })} />
          </div>
          <div>
            <p className="mb-1 text-xs font-medium text-slate-600">Sizes</p>
            <Checklist name={`Sizes for ${group.name}`} options={flavors} chosen={offer.flavorIds} onChange={(flavorIds) => setOffer({ ...offer, flavorIds })} />
          </div>
          <div>
            <p className="mb-1 text-xs font-medium text-slate-600">Networks</p>
            <Checklist name={`Networks for ${group.name}`} options={networks} chosen={offer.networkIds} onChange={(networkIds) => setOffer({ ...offer, networkIds })} />
          </div>
        </div>
        <div className="mt-3 flex items-center gap-3">
          <button type="button" className="btn btn-secondary" disabled={action.busy !== null} onClick={() => action.run("offer", base, "PATCH", offer, "Saved what the group may order")}>
            Save catalog for group
          </button>
          <Status m={action.message} k="offer" />
        </div>
      </Block>

      <Block title="Hosts" hint="A pool with hosts of its own (e.g. a batch cluster): its orders go only to the ticked hosts and to hosts carrying one of the tags (set on Admin → Hosts). Nothing set: any host.">
        <Checklist name={`Dedicated hosts of ${group.name}`} options={hosts} chosen={hostIds} onChange={setHostIds} />
        <div className="mt-3 max-w-md">
          <label htmlFor={id("tags")} className="field-label">Host tags</label>
          <input id={id("tags")} value={tags} onChange={(e) => setTags(e.target.value)} placeholder="batch, gpu" className="field-input font-mono" />
          {action.message?.key === "hosts" && Object.keys(action.fields).find((f) => f.startsWith("hostTags")) ? (
            <p className="field-error">{action.fields[Object.keys(action.fields).find((f) => f.startsWith("hostTags"))!][0]}</p>
          ) : null}
        </div>
        <div className="mt-3 flex items-center gap-3">
          <button
            type="button"
            className="btn btn-secondary"
            disabled={action.busy !== null}
            onClick={() =>
              action.run("hosts", base, "PATCH", { hostIds, hostTags: tags.split(",").map((t) => t.trim()).filter(Boolean) }, "Saved the group's hosts")
            }
          >
            Save hosts
          </button>
          <Status m={action.message} k="hosts" />
        </div>
      </Block>
    </article>
  );
}
