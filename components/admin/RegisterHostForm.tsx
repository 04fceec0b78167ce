"use client";

import { hostRegistrationInput, MAX_CONCURRENCY, registrableHostKinds } from "@/lib/hosts/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

type Values = {
  name: string;
  kind: string;
  address: string;
  port: string;
  sshUser: string;
  privateKey: string;
  hostKeyFingerprint: string;
  maxConcurrency: string;
};

const empty: Values = { name: "", kind: "xen", address: "", port: "22", sshUser: "", privateKey: "", hostKeyFingerprint: "", maxConcurrency: "4" };

const kindLabels: Record<string, string> = { qemu: "QEMU/KVM", xen: "Xen (xl + LVM)", zones: "Solaris zones (ZFS)" };

/**
 * Registers a hypervisor host: where it is, the user and private key the portal logs in
 * with, and how many commands may run on it at once. The key goes to the server once and
 * is never shown again; the host's key fingerprint is optional (Test connection records it).
 */
export function RegisterHostForm() {
  const form = useSchemaForm<Values, { id: string; name: string }>({
    schema: hostRegistrationInput,
    initial: empty,
    toBody: (v) => ({ ...v, address: v.address.trim() }),
    path: "/api/v1/hosts",
    done: (h) => `Registered ${h.name}. It stays offline until you run Test connection and activate it.`,
  });
  const local = form.values.address.trim() === "local";

  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Register a host">
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField form={form} id="host-name" field="name" label="Name" placeholder="xen-01" hint="Lowercase letters, digits and hyphens" mono />
        <div>
          <label htmlFor="host-kind" className="field-label">Kind</label>
          <select {...form.a11y("host-kind", "kind")} value={form.values.kind} onChange={(e) => form.set("kind", e.target.value)} className="field-input">
            {registrableHostKinds.map((k) => (
              <option key={k} value={k}>{kindLabels[k]}</option>
            ))}
          </select>
          <FieldError id="host-kind" text={form.errorFor("kind")} />
        </div>
        <TextField form={form} id="host-address" field="address" label="Address" placeholder="xen-01.example.org" hint={'Host name, IPv4 or IPv6 address; "local" for the worker\'s own machine'} mono />
        <TextField form={form} id="host-port" field="port" label="SSH port" numeric mono />
        <TextField form={form} id="host-user" field="sshUser" label="SSH user" placeholder="portal" hint={local ? "Not used for a local host" : "The user the portal logs in as"} mono />
        <TextField form={form} id="host-concurrency" field="maxConcurrency" label="Commands at once" numeric hint={`1 to ${MAX_CONCURRENCY}; more wait their turn`} />
        <div className="sm:col-span-2">
          <label htmlFor="host-key" className="field-label">Private key</label>
          <textarea
            {...form.a11y("host-key", "privateKey")}
            value={form.values.privateKey}
            onChange={(e) => form.set("privateKey", e.target.value)}
            rows={5}
            spellCheck={false}
            autoComplete="off"
            placeholder={"-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----"}
            className="field-input font-mono text-xs"
          />
          {form.errorFor("privateKey") ? (
            <FieldError id="host-key" text={form.errorFor("privateKey")} />
          ) : (
            <p className="field-hint">
              {local ? "Not used for a local host." : "Without a passphrase. Stored encrypted, never shown again; the page shows its public half for the host's authorized_keys."}
            </p>
          )}
        </div>
        <div className="sm:col-span-2">
          <TextField
            form={form}
            id="host-fingerprint"
            field="hostKeyFingerprint"
            label="Host key fingerprint (optional)"
            placeholder="SHA256:..."
            hint="From ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub on the host. Empty: Test connection records the key it sees first."
            mono
          />
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Registering…" : "Register host"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
