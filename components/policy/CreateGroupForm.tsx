"use client";

import { groupInput, groupKinds } from "@/lib/policy/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "../admin/useSchemaForm";

type Values = { slug: string; name: string; kind: string; autoApprove: boolean };

/** A new group: a customer pool (or a course), approving automatically or not. */
export function CreateGroupForm() {
  const form = useSchemaForm<Values, { name: string }>({
    schema: groupInput,
    initial: { slug: "", name: "", kind: "pool", autoApprove: false },
    toBody: (v) => v,
    path: "/api/v1/groups",
    done: (g) => `Created ${g.name}`,
  });
  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Create a group">
      <div className="grid gap-4 sm:grid-cols-3">
        <TextField form={form} id="group-name" field="name" label="Name" placeholder="Physics" />
        <TextField form={form} id="group-slug" field="slug" label="Slug" placeholder="physics" mono hint="Lowercase letters, digits and hyphens" />
        <div>
          <label htmlFor="group-kind" className="field-label">Kind</label>
          <select id="group-kind" value={form.values.kind} onChange={(e) => form.set("kind", e.target.value)} className="field-input">
            {groupKinds.map((k) => (
              <option key={k} value={k}>{k === "pool" ? "customer pool" : k}</option>
            ))}
          </select>
          <FieldError id="group-kind" text={form.errorFor("kind")} />
        </div>
      </div>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={form.values.autoApprove} onChange={(e) => form.set("autoApprove", e.target.checked)} />
        Approve customers&apos; orders automatically (unless a rule says otherwise)
      </label>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Creating…" : "Create group"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
