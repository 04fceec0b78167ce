import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { listNetworksWithFree } from "@/lib/net/networks";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { AddNetworkForm } from "@/components/admin/AddNetworkForm";
import { EditNetworkForm } from "@/components/admin/EditNetworkForm";
import { UsageBar } from "@/components/admin/UsageBar";
import { TableHead } from "@/components/TableHead";
import { stackedOnPhones } from "@/components/admin/stacked";

export const metadata: Metadata = { title: "Networks" };

export default async function AdminNetworksPage() {
  const user = await requireUser("/admin/networks");
  if (user.role !== "admin") forbidden();
  const networks = await listNetworksWithFree(await getDb());

  return (
    <>
      <PageHeader
        title="Networks"
        description="Every environment gets an address on the oldest service network and on the production network it was ordered on. Usable addresses exclude network, broadcast and gateway; a guest's MAC is the network's prefix followed by the low 24 bits of its address."
      />
      <div className="space-y-6">
        <section aria-labelledby="networks-heading">
          <h2 id="networks-heading" className="mb-3">Networks ({networks.length})</h2>
          <div className="card overflow-x-auto">
            <table className={`table ${stackedOnPhones}`} aria-label="Networks">
              <TableHead columns={["Network", "Purpose", "CIDR", "Gateway", "Bridge", "MAC prefix", "Addresses", "Free"]} />
              <tbody>
                {networks.map((n) => (
                  <tr key={n.id}>
                    <td data-label="Network">
                      <span className="font-medium text-slate-900">{n.name}</span>
                      <code className="block text-xs text-slate-500">{n.slug}</code>
                    </td>
                    <td data-label="Purpose">{n.purpose}</td>
                    <td data-label="CIDR" className="font-mono">{n.cidr}</td>
                    <td data-label="Gateway" className="font-mono">{n.gateway}</td>
                    <td data-label="Bridge" className="font-mono">{n.bridge}</td>
                    <td data-label="MAC prefix" className="font-mono">{n.macPrefix}</td>
                    <td data-label="Addresses"><UsageBar used={n.used} total={n.total} /></td>
                    <td data-label="Free" className="font-medium text-slate-900" data-testid="network-free">{n.free}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section aria-labelledby="add-network-heading" className="card p-5">
          <h2 id="add-network-heading" className="mb-3 text-base">Add a network</h2>
          <AddNetworkForm />
        </section>
        {networks.length ? (
          <section aria-labelledby="change-network-heading" className="card p-5">
            <h2 id="change-network-heading" className="mb-3 text-base">Change a network</h2>
            <EditNetworkForm networks={networks} />
          </section>
        ) : null}
      </div>
    </>
  );
}
