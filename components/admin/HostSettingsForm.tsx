"use client";

import { hostUpdateInput, MAX_CONCURRENCY } from "@/lib/validation/host";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

type Values = { port: string; sshUser: string; maxConcurrency: string; privateKey: string };

/**
 * Changes how the portal logs in to a host: port, user, commands at once, and a new private
 * key (key rotation; empty keeps the stored one, which is never shown). Only changed fields
 * are sent. Mounted with a key of the current settings, so it shows them again after a save.
 */
export function HostSettingsForm({ hostId, current, local, onSaved }: {
  hostId: string;
  current: { port: number; sshUser: string | null; maxConcurrency: number };
  local: boolean;
  onSaved: (text: string) => void;
}) {
  const initial: Values = { port: String(current.port), sshUser: current.sshUser ?? "", maxConcurrency: String(current.maxConcurrency), privateKey: "" };
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
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-secondary text-xs" disabled={form.busy}>{form.busy ? "Saving…" : "Save settings"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
