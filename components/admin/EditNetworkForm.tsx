"use client";

import { MAX_PREFIX, MIN_PREFIX, networkUpdateInput } from "@/lib/net/input";
import { TextField, FormStatus, useSchemaForm } from "./useSchemaForm";

type Network = { id: string; name: string; cidr: string; gateway: string; bridge: string };
type Values = { id: string; cidr: string; gateway: string; bridge: string };

/**
 * Changes a network: a wider block when it runs full, another gateway or bridge. The server
 * refuses, with the addresses, a change that would leave an allocated address unusable.
 */
export function EditNetworkForm({ networks }: { networks: Network[] }) {
  const first = networks[0];
  const form = useSchemaForm<Values, Network>({
    schema: networkUpdateInput,
    initial: { id: first?.id ?? "", cidr: first?.cidr ?? "", gateway: first?.gateway ?? "", bridge: first?.bridge ?? "" },
    toBody: ({ id: _id, ...v }) => v,
    path: `/api/v1/networks/${first?.id}`,
    method: "PATCH",
    done: (n) => `${n.name} is now ${n.cidr}, gateway ${n.gateway}, bridge ${n.bridge}`,
    pathFor: (v) => `/api/v1/networks/${v.id}`,
    keepValues: true,
  });
  if (!first) return null;

  function choose(id: string) {
    const n = networks.find((x) => x.id === id);
    if (!n) return;
    form.set("id", n.id);
    form.set("cidr", n.cidr);
    form.set("gateway", n.gateway);
    form.set("bridge", n.bridge);
  }

  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Change a network">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <div>
          <label htmlFor="network-edit-id" className="field-label">Network</label>
          <select id="network-edit-id" value={form.values.id} onChange={(e) => choose(e.target.value)} className="field-input">
            {networks.map((n) => (
              <option key={n.id} value={n.id}>{n.name}</option>
            ))}
          </select>
        </div>
        <TextField form={form} id="network-edit-cidr" field="cidr" label="CIDR" mono hint={`Wider keeps every allocated address; /${MIN_PREFIX} to /${MAX_PREFIX}`} />
        <TextField form={form} id="network-edit-gateway" field="gateway" label="Gateway" mono hint="A free host address inside the block" />
        <TextField form={form} id="network-edit-bridge" field="bridge" label="Bridge or device" mono hint="For environments built from now on" />
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Saving…" : "Save network"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
