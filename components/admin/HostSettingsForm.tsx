"use client";

import { hostUpdateInput, MAX_CONCURRENCY } from "@/lib/hosts/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

type Values = { port: string; sshUser: string; maxConcurrency: string; privateKey: string; config: string };

/** Settings whose value is never shown (the API sends "(set)"): left out of the editable text. */
function editableSettings(settings: Record<string, unknown>): { text: string; hidden: string[] } {
  const shown = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== "(set)"));
  return { text: JSON.stringify(shown, null, 2), hidden: Object.keys(settings).filter((k) => settings[k] === "(set)") };
}

/** The settings text as the API takes it: an object, or the text itself so the schema explains what is wrong. */
function parseSettings(text: string): unknown {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? v : text;
  } catch {
    return text;
  }
}

/**
 * Changes how the portal logs in to a host: port, user, commands at once, and a new private
 * key (key rotation; empty keeps the stored one, which is never shown). Only changed fields
 * are sent. Mounted with a key of the current settings, so it shows them again after a save.
 */
export function HostSettingsForm({ hostId, current, settings, local, onSaved }: {
  hostId: string;
  current: { port: number; sshUser: string | null; maxConcurrency: number };
  /** Driver settings as the API shows them (hidden values as "(set)"). */
  settings: Record<string, unknown> | null;
  local: boolean;
  onSaved: (text: string) => void;
}) {
  const editable = settings ? editableSettings(settings) : null;
  const initial: Values = {
    port: String(current.port),
    sshUser: current.sshUser ?? "",
    maxConcurrency: String(current.maxConcurrency),
    privateKey: "",
    config: editable?.text ?? "",
  };
  const form = useSchemaForm<Values, { name: string }>({
    schema: hostUpdateInput,
    initial,
    toBody: (v) => {
      const body: Record<string, unknown> = {};
      if (v.maxConcurrency !== initial.maxConcurrency) body.maxConcurrency = v.maxConcurrency;
      if (!local) {
        if (v.port !== initial.port) body.port = v.port;
        if (v.sshUser !== initial.sshUser) body.sshUser = v.sshUser;
        if (v.privateKey.trim()) body.privateKey = v.privateKey;
      }
      if (editable && v.config !== initial.config) body.config = parseSettings(v.config);
      return body;
    },
    path: `/api/v1/hosts/${hostId}`,
    method: "PATCH",
    // The card says it (this form remounts with the saved values).
    done: (h) => {
      onSaved(`Saved the connection settings of ${h.name}`);
      return "";
    },
  });

  return (
    <form onSubmit={form.submit} noValidate className="space-y-3" aria-label="Connection settings">
      <div className="grid gap-3 sm:grid-cols-3">
        {local ? null : <TextField form={form} id={`${hostId}-port`} field="port" label="SSH port" numeric mono />}
        {local ? null : <TextField form={form} id={`${hostId}-user`} field="sshUser" label="SSH user" mono />}
        <TextField form={form} id={`${hostId}-concurrency`} field="maxConcurrency" label="Commands at once" numeric hint={`1 to ${MAX_CONCURRENCY}`} />
      </div>
      {local ? null : (
        <div>
          <label htmlFor={`${hostId}-key`} className="field-label">New private key</label>
          <textarea
            {...form.a11y(`${hostId}-key`, "privateKey")}
            value={form.values.privateKey}
            onChange={(e) => form.set("privateKey", e.target.value)}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            placeholder="Empty keeps the stored key"
            className="field-input font-mono text-xs"
          />
          <FieldError id={`${hostId}-key`} text={form.errorFor("privateKey")} />
        </div>
      )}
      {editable ? (
        <div>
          <label htmlFor={`${hostId}-config`} className="field-label">Driver settings (JSON)</label>
          <textarea
            {...form.a11y(`${hostId}-config`, "config")}
            value={form.values.config}
            onChange={(e) => form.set("config", e.target.value)}
            rows={Math.min(12, form.values.config.split("\n").length + 1)}
            spellCheck={false}
            autoComplete="off"
            className="field-input font-mono text-xs"
          />
          {form.errorFor("config") ? (
            <FieldError id={`${hostId}-config`} text={form.errorFor("config")} />
          ) : (
            <p className="field-hint">
              Keys given replace the stored ones; null removes one (back to its default).
              {editable.hidden.length ? ` ${editable.hidden.join(", ")}: set, not shown; give a new value to replace it.` : ""}
            </p>
          )}
          {Object.entries(form.serverFieldErrors())
            .filter(([k]) => k.startsWith("config."))
            .map(([k, messages]) => (
              <p key={k} className="field-error">{k.slice("config.".length)}: {messages[0]}</p>
            ))}
        </div>
      ) : null}
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-secondary text-xs" disabled={form.busy}>{form.busy ? "Saving…" : "Save settings"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
