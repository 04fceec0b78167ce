"use client";

import { DEFAULT_MAC_PREFIX, MAX_PREFIX, MIN_PREFIX, networkInput, networkPurposes } from "@/lib/net/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

type Values = { slug: string; name: string; purpose: string; cidr: string; gateway: string; bridge: string; macPrefix: string };
type Field = keyof Values;

const empty: Values = { slug: "", name: "", purpose: "production", cidr: "", gateway: "", bridge: "", macPrefix: "" };

/** Adds a guest network: its block, gateway, the bridge guests attach to and the MAC prefix. */
export function AddNetworkForm() {
  const form = useSchemaForm<Values, { name: string; cidr: string }>({
    schema: networkInput,
    initial: empty,
    // An empty MAC prefix means the default one.
    toBody: (v) => ({ ...v, macPrefix: v.macPrefix.trim() || undefined }),
    path: "/api/v1/networks",
    done: (n) => `Added ${n.name} (${n.cidr})`,
  });

  const input = (f: Field, label: string, opts: { placeholder?: string; hint?: string; mono?: boolean } = {}) => (
    <TextField form={form} id={`network-${f}`} field={f} label={label} {...opts} />
  );

  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Add a network">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <div className="sm:col-span-2">{input("name", "Name", { placeholder: "Lab production" })}</div>
        {input("slug", "Slug", { placeholder: "lab-production", hint: "Lowercase letters, digits and hyphens", mono: true })}
        <div>
          <label htmlFor="network-purpose" className="field-label">Purpose</label>
          <select id="network-purpose" value={form.values.purpose} onChange={(e) => form.set("purpose", e.target.value)} className="field-input">
            {networkPurposes.map((p) => (
              <option key={p} value={p}>{p}</option>
            ))}
          </select>
          <FieldError id="network-purpose" text={form.errorFor("purpose")} />
        </div>
        {input("cidr", "CIDR", { placeholder: "10.40.0.0/24", hint: `Network address, /${MIN_PREFIX} to /${MAX_PREFIX}`, mono: true })}
        {input("gateway", "Gateway", { placeholder: "10.40.0.1", hint: "A host address inside the block", mono: true })}
        {input("bridge", "Bridge or device", { placeholder: "xenbr2", hint: "Linux bridge or NIC on the hosts", mono: true })}
        {input("macPrefix", "MAC prefix", { placeholder: DEFAULT_MAC_PREFIX, hint: `Optional; ${DEFAULT_MAC_PREFIX} when empty`, mono: true })}
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Adding…" : "Add network"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
