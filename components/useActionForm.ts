"use client";

import { useActionState, useState, type FormEvent } from "react";
import type { z } from "zod";

/** What a form's server action answers: the values it was sent, and what it refused. */
export type FormState<V> = { values: V; error: string | null; fields: Record<string, string[]>; saved: boolean };

/**
 * A form posted to a server action, so that it works without JavaScript (the action's state is
 * rendered on the server). With JavaScript its fields are checked as you type with the zod
 * schema the server uses: a field's own message shows once it was touched, the server's
 * message under the field it names until that field changes; a form with an error is not sent.
 */
export function useActionForm<V extends Record<string, string>>(opts: {
  schema: z.ZodType;
  toBody: (values: V) => unknown;
  action: (state: FormState<V>, form: FormData) => Promise<FormState<V>>;
  initial: V;
  /** Says that nothing was done, e.g. "Not saved". */
  refused: string;
}) {
  const [state, formAction, pending] = useActionState(opts.action, { values: opts.initial, error: null, fields: {}, saved: false });
  const [values, setValues] = useState<V>(state.values);
  const [touched, setTouched] = useState<Partial<Record<keyof V, boolean>>>({});
  const [serverErrors, setServerErrors] = useState(state.fields);
  const [answered, setAnswered] = useState(state);
  const [changed, setChanged] = useState(false);
  // A new answer from the server brings its messages (React's way to derive state from a change).
  if (answered !== state) {
    setAnswered(state);
    setServerErrors(state.fields);
    setTouched({});
    setChanged(false);
  }

  const clientErrors: Record<string, string> = {};
  const checked = opts.schema.safeParse(opts.toBody(values));
  if (!checked.success) for (const i of checked.error.issues) clientErrors[String(i.path[0] ?? "_")] ??= i.message;

  const errorFor = (f: keyof V & string) => (touched[f] ? clientErrors[f] : undefined) ?? serverErrors[f]?.[0];

  function set(f: keyof V & string, v: string) {
    setValues((x) => ({ ...x, [f]: v }));
    setTouched((t) => ({ ...t, [f]: true }));
    setServerErrors((e) => ({ ...e, [f]: [] }));
    setChanged(true);
  }

  function onSubmit(e: FormEvent) {
    if (Object.keys(clientErrors).length === 0) return;
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(values).map((k) => [k, true])) as Partial<Record<keyof V, boolean>>);
  }

  /** Props of a field: its name and value, tied to its label and its message. */
  const field = (id: string, f: keyof V & string) => ({
    id,
    name: f,
    value: values[f],
    onChange: (e: { target: { value: string } }) => set(f, e.target.value),
    "aria-invalid": Boolean(errorFor(f)),
    "aria-describedby": errorFor(f) ? `${id}-error` : undefined,
  });

  // Until something changes again, the latest answer is the form's message; a message shown
  // under its field is not repeated there.
  const underFields = Object.keys(state.fields).some((f) => f in values);
  const elsewhere = Object.entries(state.fields).filter(([f]) => !(f in values)).flatMap(([, m]) => m);
  const refusal = elsewhere.length ? `${opts.refused}: ${elsewhere.join("; ")}` : underFields ? `${opts.refused}: see the marked fields` : state.error;
  const message = changed ? null : state.saved ? { ok: true, text: "Saved" } : refusal ? { ok: false, text: refusal } : null;

  return { values, errorFor, field, formAction, onSubmit, pending, message };
}
