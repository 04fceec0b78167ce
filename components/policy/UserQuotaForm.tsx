"use client";

import { useState } from "react";
import { quotaLimitsForm } from "@/lib/policy/input";
import { fieldErrors } from "@/lib/validation/fields";
import { useAction } from "./useAction";

type Limits = { environments: number | null; vcpus: number | null; memoryGb: number | null; diskGb: number | null; licensedCores: number | null };
type UserRow = { id: string; email: string; limits: Limits };

const fields: [keyof Limits, string][] = [
  ["environments", "Environments"],
  ["vcpus", "vCPUs"],
  ["memoryGb", "Memory (GiB)"],
  ["diskGb", "Disk (GB)"],
  ["licensedCores", "Licensed cores"],
];

const asText = (l: Limits) => Object.fromEntries(fields.map(([k]) => [k, l[k] === null ? "" : String(l[k])])) as Record<keyof Limits, string>;

/** A user's own limits, counted over all their orders in every group. */
export function UserQuotaForm({ users }: { users: UserRow[] }) {
  const action = useAction();
  const [userId, setUserId] = useState(users[0]?.id ?? "");
  const user = users.find((u) => u.id === userId);
  const [limits, setLimits] = useState(user ? asText(user.limits) : asText({ environments: null, vcpus: null, memoryGb: null, diskGb: null, licensedCores: null }));
  const parsed = quotaLimitsForm.safeParse(limits);
  const errors = parsed.success ? {} : fieldErrors(parsed.error);

  return (
    <form
      className="space-y-3"
      aria-label="Quota of a user"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed.success && user) void action.run("user", `/api/v1/quotas/users/${user.id}`, "PUT", parsed.data, `Saved the quota of ${user.email}`);
      }}
    >
      <div className="max-w-sm">
        <label htmlFor="user-quota-user" className="field-label">User</label>
        <select
          id="user-quota-user"
          value={userId}
          onChange={(e) => {
            setUserId(e.target.value);
            const u = users.find((x) => x.id === e.target.value);
            if (u) setLimits(asText(u.limits));
          }}
          className="field-input"
        >
          {users.map((u) => (
            <option key={u.id} value={u.id}>{u.email}</option>
          ))}
        </select>
      </div>
      <div className="grid gap-3 sm:grid-cols-5">
        {fields.map(([k, label]) => (
          <div key={k}>
            <label htmlFor={`user-quota-${k}`} className="field-label">{label}</label>
            <input id={`user-quota-${k}`} inputMode="numeric" placeholder="no limit" value={limits[k]} onChange={(e) => setLimits({ ...limits, [k]: e.target.value })} className="field-input" aria-invalid={Boolean(errors[k])} />
            {errors[k] ?? action.fields[k] ? <p className="field-error">{(errors[k] ?? action.fields[k])[0]}</p> : null}
          </div>
        ))}
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" className="btn btn-secondary" disabled={action.busy !== null || !parsed.success || !user}>Save user quota</button>
        {action.message ? <p role={action.message.ok ? "status" : "alert"} className={`text-sm ${action.message.ok ? "text-emerald-700" : "text-rose-700"}`}>{action.message.text}</p> : null}
      </div>
    </form>
  );
}
