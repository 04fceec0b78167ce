"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent } from "react";
import { newUserInput as newUser, type Role } from "@/lib/validation/user";
import { api } from "../api-client";

/** The roles in the order the form offers them: most common first. */
const roles: readonly Role[] = ["customer", "student", "approver", "admin"];

type Values = { email: string; name: string; role: string; group: string; password: string };
type Field = keyof Values;

export function CreateUserForm({ groups }: { groups: { slug: string; name: string }[] }) {
  const router = useRouter();
  const empty: Values = { email: "", name: "", role: "customer", group: groups[0]?.slug ?? "", password: "" };
  const [values, setValues] = useState<Values>(empty);
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const body = { ...values, group: values.group || undefined };
  const clientErrors = useMemo(() => {
    const r = newUser.safeParse(body);
    const out: Record<string, string> = {};
    if (!r.success) for (const i of r.error.issues) out[String(i.path[0])] ??= i.message;
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values]);

  const errorFor = (f: Field) => (touched[f] ? clientErrors[f] : undefined) ?? serverErrors[f]?.[0];

  function set(f: Field, v: string) {
    setValues((x) => ({ ...x, [f]: v }));
    setTouched((t) => ({ ...t, [f]: true }));
    setServerErrors((e) => ({ ...e, [f]: [] }));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched({ email: true, name: true, role: true, group: true, password: true });
    setMessage(null);
    if (Object.keys(clientErrors).length) return;
    setBusy(true);
    const res = await api<{ email: string; role: string; group: string }>("/api/v1/users", { method: "POST", body });
    setBusy(false);
    if (!res.ok) {
      setServerErrors(res.fields ?? {});
      setMessage({ ok: false, text: res.error });
      return;
    }
    setMessage({ ok: true, text: `Created ${res.data.email} (${res.data.role}) in group ${res.data.group}` });
    setValues(empty);
    setTouched({});
    router.refresh();
  }

  const input = (f: Field, label: string, type = "text", extra: Record<string, string> = {}) => (
    <div>
      <label htmlFor={`user-${f}`} className="field-label">{label}</label>
      <input
        id={`user-${f}`}
        type={type}
        value={values[f]}
        onChange={(e) => set(f, e.target.value)}
        className="field-input"
        aria-invalid={Boolean(errorFor(f))}
        aria-describedby={errorFor(f) ? `user-${f}-error` : undefined}
        {...extra}
      />
      {errorFor(f) ? <p id={`user-${f}-error`} className="field-error">{errorFor(f)}</p> : null}
    </div>
  );

  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-label="Create a user">
      <div className="grid gap-4 sm:grid-cols-2">
        {input("email", "E-mail", "email", { autoComplete: "off" })}
        {input("name", "Name")}
        <div>
          <label htmlFor="user-role" className="field-label">Role</label>
          <select id="user-role" value={values.role} onChange={(e) => set("role", e.target.value)} className="field-input">
            {roles.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="user-group" className="field-label">Group</label>
          <select id="user-group" value={values.group} onChange={(e) => set("group", e.target.value)} className="field-input" aria-invalid={Boolean(errorFor("group"))}>
            {groups.map((g) => (
              <option key={g.slug} value={g.slug}>{g.name}</option>
            ))}
          </select>
          {errorFor("group") ? <p className="field-error">{errorFor("group")}</p> : null}
        </div>
        {input("password", "Initial password", "password", { autoComplete: "new-password" })}
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary" disabled={busy}>{busy ? "Creating…" : "Create user"}</button>
        {message ? (
          <p role={message.ok ? "status" : "alert"} className={`text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p>
        ) : null}
      </div>
    </form>
  );
}
