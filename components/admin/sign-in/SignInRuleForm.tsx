"use client";

import { signInRuleInput, signInRuleUpdate } from "@/lib/auth/sign-in-input";
import type { Role } from "@/lib/db/schema/enums";
import { FieldError, FormStatus, TextField, useSchemaForm } from "../useSchemaForm";

/** The roles in the order the form offers them: most common first. */
export const ruleRoles: readonly Role[] = ["customer", "student", "approver", "admin"];

type Values = { match: string; role: string; group: string };
export type SignInRuleRow = { id: string; match: string; role: Role; group: { slug: string; name: string } | null };

/** Adds a mapping rule, or (with `editing`) changes one. */
export function SignInRuleForm({ groups, editing, onDone }: { groups: { slug: string; name: string }[]; editing?: SignInRuleRow; onDone?: () => void }) {
  const id = (f: string) => `${editing ? `rule-${editing.id}` : "rule-new"}-${f}`;
  const form = useSchemaForm<Values, SignInRuleRow>({
    schema: editing ? signInRuleUpdate : signInRuleInput,
    initial: { match: editing?.match ?? "", role: editing?.role ?? "customer", group: editing?.group?.slug ?? "" },
    toBody: (v) => ({ ...v, group: v.group || null }),
    path: "/api/v1/sign-in/rules",
    pathFor: editing ? () => `/api/v1/sign-in/rules/${editing.id}` : undefined,
    method: editing ? "PATCH" : "POST",
    keepValues: Boolean(editing),
    done: (r) => {
      onDone?.();
      return `${editing ? "Saved" : "Added"}: ${r.match} → ${r.role}${r.group ? ` in ${r.group.name}` : ""}`;
    },
  });
  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label={editing ? `Change the rule for ${editing.match}` : "Add a mapping rule"}>
      <div className="grid gap-4 sm:grid-cols-3">
        <div className="sm:col-span-3">
          <TextField
            form={form}
            id={id("match")}
            field="match"
            label="Group at the directory or identity provider"
            placeholder="lab-admins, or cn=physics,ou=groups,dc=example,dc=org"
            hint="A value of the OIDC groups claim, or an LDAP group's DN; compared without case."
            mono
          />
        </div>
        <div>
          <label htmlFor={id("role")} className="field-label">Role in the portal</label>
          <select {...form.a11y(id("role"), "role")} value={form.values.role} onChange={(e) => form.set("role", e.target.value)} className="field-input">
            {ruleRoles.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
          <FieldError id={id("role")} text={form.errorFor("role")} />
        </div>
        <div className="sm:col-span-2">
          <label htmlFor={id("group")} className="field-label">Member of group</label>
          <select {...form.a11y(id("group"), "group")} value={form.values.group} onChange={(e) => form.set("group", e.target.value)} className="field-input">
            <option value="">No group (the role only)</option>
            {groups.map((g) => (
              <option key={g.slug} value={g.slug}>{g.name}</option>
            ))}
          </select>
          <FieldError id={id("group")} text={form.errorFor("group")} />
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>
          {form.busy ? "Saving…" : editing ? "Save rule" : "Add rule"}
        </button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
