"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent } from "react";
import type { z } from "zod";
import { api } from "../api-client";

/**
 * State of an admin form that validates as you type with the zod schema the API uses:
 * a field's own message shows once it was touched, the server's 409/422 messages show
 * under the field they name until that field changes, and success refreshes the page's
 * tables.
 */
export function useSchemaForm<V extends Record<string, unknown>, R>(opts: {
  schema: z.ZodType;
  initial: V;
  toBody: (values: V) => unknown;
  path: string;
  /** The path when it depends on the values (e.g. the chosen item's id); else `path`. */
  pathFor?: (values: V) => string;
  /** A form that changes an existing thing keeps what was saved instead of emptying itself. */
  keepValues?: boolean;
  /** POST by default (adding); PATCH for a form that changes an existing thing. */
  method?: "POST" | "PATCH";
  done: (created: R) => string;
}) {
  const router = useRouter();
  const [values, setValues] = useState<V>(opts.initial);
  const [touched, setTouched] = useState<Partial<Record<string, boolean>>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  // `fields`: the message is about the marked fields, and goes once none is marked any more.
  const [message, setMessage] = useState<{ ok: boolean; text: string; fields?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const body = opts.toBody(values);
  const clientErrors = useMemo(() => {
    const r = opts.schema.safeParse(body);
    const out: Record<string, string> = {};
    if (!r.success) for (const i of r.error.issues) out[String(i.path[0] ?? "_")] ??= i.message;
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values]);

  const errorFor = (f: keyof V & string) => (touched[f] ? clientErrors[f] : undefined) ?? serverErrors[f]?.[0];

  function set<K extends keyof V & string>(f: K, v: V[K]) {
    setValues((x) => ({ ...x, [f]: v }));
    setTouched((t) => ({ ...t, [f]: true }));
    // Also the messages about parts of the field ("config.volumeGroup").
    setServerErrors((e) => Object.fromEntries([...Object.entries(e).filter(([k]) => !k.startsWith(`${f}.`)), [f, []]]));
    setMessage((m) => (m?.fields ? m : null));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(values).map((k) => [k, true])));
    setMessage(null);
    if (Object.keys(clientErrors).length) return;
    setBusy(true);
    const res = await api<R>(opts.pathFor ? opts.pathFor(values) : opts.path, { method: opts.method ?? "POST", body });
    setBusy(false);
    if (!res.ok) {
      const fields = res.fields ?? {};
      setServerErrors(fields);
      // A message shown under its field is not repeated below the button.
      const shown = Object.keys(fields).some((f) => f in values);
      setMessage({ ok: false, text: shown ? `Not ${opts.method === "PATCH" ? "saved" : "added"}: see the marked fields` : res.error, fields: shown });
      return;
    }
    setMessage({ ok: true, text: opts.done(res.data) });
    if (!opts.keepValues) setValues(opts.initial);
    setTouched({});
    router.refresh();
  }

  /** Props that tie an input to its label and error message. */
  const a11y = (id: string, f: keyof V & string) => ({
    id,
    "aria-invalid": Boolean(errorFor(f)),
    "aria-describedby": errorFor(f) ? `${id}-error` : undefined,
  });

  /** The server's messages by field path, also for nested fields (e.g. "config.volumeGroup"). */
  const serverFieldErrors = () => serverErrors;

  const marked = Object.keys(values).some((f) => errorFor(f as keyof V & string)) || Object.values(serverErrors).some((m) => m.length > 0);
  return { values, set, errorFor, submit, busy, message: message?.fields && !marked ? null : message, a11y, serverFieldErrors };
}

export type SchemaForm<V extends Record<string, unknown>> = ReturnType<typeof useSchemaForm<V, unknown>>;

/** A labelled one-line input of a schema form, with its message (or a hint) below it. */
export function TextField<V extends Record<string, unknown>>(props: {
  form: SchemaForm<V>;
  id: string;
  field: keyof V & string;
  label: string;
  type?: "text" | "email" | "password";
  placeholder?: string;
  hint?: string;
  mono?: boolean;
  numeric?: boolean;
  autoComplete?: string;
}) {
  const { form, id, field, hint } = props;
  const error = form.errorFor(field);
  return (
    <div>
      <label htmlFor={id} className="field-label">{props.label}</label>
      <input
        {...form.a11y(id, field)}
        type={props.type ?? "text"}
        inputMode={props.numeric ? "numeric" : undefined}
        value={String(form.values[field] ?? "")}
        onChange={(e) => form.set(field, e.target.value as V[typeof field])}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? "off"}
        spellCheck={false}
        className={`field-input ${props.mono ? "font-mono" : ""}`}
      />
      {error ? <FieldError id={id} text={error} /> : hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}

export function FieldError({ id, text }: { id: string; text: string | undefined }) {
  return text ? <p id={`${id}-error`} className="field-error">{text}</p> : null;
}

export function FormStatus({ message }: { message: { ok: boolean; text: string } | null }) {
  if (!message) return null;
  return <p role={message.ok ? "status" : "alert"} className={`text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p>;
}
