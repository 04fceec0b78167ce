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
import Link from "next/link";
import { serviceIpsByNetwork } from "@/lib/net/service-ips";
import { listRoutes } from "@/lib/net/routes";
import { routeNetworksAction, separateNetworksAction } from "./actions";

export const metadata: Metadata = { title: "Networks" };

export default async function AdminNetworksPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/networks");
  if (user.role !== "admin") forbidden();
  const db = await getDb();
  const [networks, byNetwork, routes] = await Promise.all([listNetworksWithFree(db), serviceIpsByNetwork(db), listRoutes(db)]);
  const params = await searchParams;
  const notice = typeof params.notice === "string" ? params.notice : undefined;
  const error = typeof params.error === "string" ? params.error : undefined;

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
              <TableHead columns={["Network", "Purpose", "CIDR", "Gateway", "Bridge", "MAC prefix", "Addresses", "Free", "Service IPs"]} />
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
                    <td data-label="Service IPs" data-testid="network-service-ips">
                      {(byNetwork.get(n.id) ?? []).length ? (
                        <ul className="space-y-1">
                          {(byNetwork.get(n.id) ?? []).map((s) => (
                            <li key={s.id}>
                              <code className="font-mono">{s.ip}</code> <span className="text-slate-500">{s.name} ({s.group.slug})</span>{" → "}
                              {s.environment ? (
                                <Link prefetch={false} href={`/orders/${s.environment.orderId}#service-ips`} className="text-sky-800 hover:underline">{s.environment.name}</Link>
                              ) : (
                                <span className="text-slate-500">not attached</span>
                              )}
                              {s.pending ? <span className="block text-xs text-amber-800">{s.pending.kind} {s.pending.status}</span> : null}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        <span className="text-slate-400">none</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section id="routes" aria-labelledby="routes-heading" className="card p-5">
          <h2 id="routes-heading" className="mb-1 text-base">Routes between networks</h2>
          <p className="mb-3 text-sm text-slate-600">
            Networks are kept apart on every host: a guest on one cannot reach a guest on another through the host. Route two networks to let their guests reach each other;
            a change applies to running hosts at once (QEMU: nftables in the host&apos;s network namespace), without restarting guests.
          </p>
          {notice ? <p role="status" className="mb-3 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{notice}</p> : null}
          {error ? <p role="alert" className="mb-3 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800">{error}</p> : null}
          {routes.length ? (
            <ul className="mb-4 divide-y divide-slate-100 text-sm" aria-label="Routed pairs">
              {routes.map((r) => (
                <li key={r.id} className="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="network-route">
                  <span>
                    <span className="font-medium">{r.networks[0].name}</span> ↔ <span className="font-medium">{r.networks[1].name}</span>
                  </span>
                  <form action={separateNetworksAction}>
                    <input type="hidden" name="network" value={r.networks[0].id} />
                    <input type="hidden" name="other" value={r.networks[1].id} />
                    <button type="submit" className="btn btn-secondary">Separate</button>
                  </form>
                </li>
              ))}
            </ul>
          ) : (
            <p className="mb-4 text-sm text-slate-500">No two networks are routed: every network is on its own.</p>
          )}
          {networks.length > 1 ? (
            <form action={routeNetworksAction} className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end">
              <div>
                <label htmlFor="route-network" className="field-label">Network</label>
                <select id="route-network" name="network" className="field-input">
                  {networks.map((n) => <option key={n.id} value={n.id}>{n.name} ({n.cidr})</option>)}
                </select>
              </div>
              <div>
                <label htmlFor="route-other" className="field-label">Routed with</label>
                <select id="route-other" name="other" className="field-input" defaultValue={networks[1]?.id}>
                  {networks.map((n) => <option key={n.id} value={n.id}>{n.name} ({n.cidr})</option>)}
                </select>
              </div>
              <button type="submit" className="btn btn-primary w-full sm:w-auto">Route</button>
            </form>
          ) : null}
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
