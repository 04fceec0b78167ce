"use client";

import { newUserInput, type Role } from "@/lib/users/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

/** The roles in the order the form offers them: most common first. */
const roles: readonly Role[] = ["customer", "student", "approver", "admin"];

type Values = { email: string; name: string; role: string; group: string; password: string };

export function CreateUserForm({ groups }: { groups: { slug: string; name: string }[] }) {
  const form = useSchemaForm<Values, { email: string; role: string; group: string }>({
    schema: newUserInput,
    initial: { email: "", name: "", role: "customer", group: groups[0]?.slug ?? "", password: "" },
    toBody: (v) => ({ ...v, group: v.group || undefined }),
    path: "/api/v1/users",
    done: (u) => `Created ${u.email} (${u.role}) in group ${u.group}`,
  });

  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Create a user">
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField form={form} id="user-email" field="email" label="E-mail" type="email" />
        <TextField form={form} id="user-name" field="name" label="Name" />
        <div>
          <label htmlFor="user-role" className="field-label">Role</label>
          <select {...form.a11y("user-role", "role")} value={form.values.role} onChange={(e) => form.set("role", e.target.value)} className="field-input">
            {roles.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
          <FieldError id="user-role" text={form.errorFor("role")} />
        </div>
        <div>
          <label htmlFor="user-group" className="field-label">Group</label>
          <select {...form.a11y("user-group", "group")} value={form.values.group} onChange={(e) => form.set("group", e.target.value)} className="field-input">
            {groups.map((g) => (
              <option key={g.slug} value={g.slug}>{g.name}</option>
            ))}
          </select>
          <FieldError id="user-group" text={form.errorFor("group")} />
        </div>
        <TextField form={form} id="user-password" field="password" label="Initial password" type="password" autoComplete="new-password" />
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Creating…" : "Create user"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
