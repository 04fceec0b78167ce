import type { Metadata } from "next";
import Link from "next/link";
import { asc, eq } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { groups, memberships, networks } from "@/lib/db/schema";
import { requireUser } from "@/lib/auth/require-user";
import { listServiceIps } from "@/lib/net/service-ips";
import { attachableEnvironments } from "@/lib/lifecycle/service-ips";
import { PageHeader } from "@/components/PageHeader";
import { TableHead } from "@/components/TableHead";
import { stackedOnPhones } from "@/components/admin/stacked";
import { lastMoveText, serviceIpState } from "@/components/orders/ServiceIpsCard";
import { attachServiceIpAction, detachServiceIpAction, releaseServiceIpAction, reserveServiceIpAction } from "./actions";

export const metadata: Metadata = { title: "Service IPs" };

const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);

/**
 * Service IPs of the user's groups (admins: all): reserve one on a network, point it at a
 * running environment (which moves it when it points elsewhere), detach or release it.
 * Server-rendered forms that work without JavaScript and on a phone.
 */
export default async function ServiceIpsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/service-ips");
  const params = await searchParams;
  const db = await getDb();
  const [list, nets, mine, envs] = await Promise.all([
    listServiceIps(db, user, { limit: 500 }),
    db.select({ id: networks.id, slug: networks.slug, name: networks.name, cidr: networks.cidr }).from(networks).orderBy(asc(networks.purpose), asc(networks.name)),
    user.role === "admin"
      ? db.select({ slug: groups.slug, name: groups.name }).from(groups).orderBy(asc(groups.name))
      : db.select({ slug: groups.slug, name: groups.name }).from(memberships).innerJoin(groups, eq(groups.id, memberships.groupId)).where(eq(memberships.userId, user.id)).orderBy(asc(groups.name)),
    attachableEnvironments(db, user),
  ]);
  const canReserve = user.role !== "student" && mine.length > 0;
  const notice = one(params.sip_notice);
  const error = one(params.sip_error);
  const netName = new Map(nets.map((n) => [n.id, n.name]));

  return (
    <>
      <PageHeader
        title="Service IPs"
        description="An address of a network that belongs to your group, not to one machine: point it at a running environment on that network, and move it to another in one step when the service moves. The host measures how long the address did not answer."
      />
      <div id="service-ips" className="space-y-6">
        {notice ? <p role="status" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{notice}</p> : null}
        {error ? <p role="alert" className="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800">{error}</p> : null}

        <section aria-labelledby="list-heading">
          <h2 id="list-heading" className="mb-3">Service IPs ({list.serviceIps.length})</h2>
          {list.serviceIps.length ? (
            <div className="card overflow-x-auto">
              <table className={`table ${stackedOnPhones}`} aria-label="Service IPs">
                <TableHead columns={["Name", "Address", "Network", "Group", "Points to", "Last change", ""]} />
                <tbody>
                  {list.serviceIps.map((s) => (
                    <tr key={s.id} data-testid="service-ip-row">
                      <td data-label="Name" className="font-medium text-slate-900">{s.name}</td>
                      <td data-label="Address" className="font-mono">{s.ip}</td>
                      <td data-label="Network">{s.network.name}</td>
                      <td data-label="Group">{s.group.name}</td>
                      <td data-label="Points to">
                        {s.environment ? (
                          <Link prefetch={false} href={`/orders/${s.environment.orderId}#service-ips`} className="text-sky-800 hover:underline">{s.environment.name}</Link>
                        ) : null}
                        <span className="block text-xs text-slate-500">{serviceIpState(s)}</span>
                      </td>
                      <td data-label="Last change" className="text-xs text-slate-600">{lastMoveText(s) ?? "—"}</td>
                      <td data-label="">
                        {user.role !== "student" && !s.pending ? (
                          <div className="flex flex-wrap gap-2">
                            {s.environment ? (
                              <form action={detachServiceIpAction}>
                                <input type="hidden" name="id" value={s.id} />
                                <input type="hidden" name="back" value="/service-ips" />
                                <button type="submit" className="btn btn-secondary">Detach</button>
                              </form>
                            ) : (
                              <form action={releaseServiceIpAction}>
                                <input type="hidden" name="id" value={s.id} />
                                <input type="hidden" name="back" value="/service-ips" />
                                <button type="submit" className="btn btn-secondary">Release</button>
                              </form>
                            )}
                          </div>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="card p-5 text-sm text-slate-500">No service IPs yet.</p>
          )}
        </section>

        {user.role !== "student" && list.serviceIps.length ? (
          <section aria-labelledby="attach-heading" className="card p-5">
            <h2 id="attach-heading" className="mb-1 text-base">Attach or move</h2>
            <p className="mb-3 text-sm text-slate-600">The environment must be running and have an address on the service IP&apos;s network. One that points elsewhere moves: off the old guest, onto the new one.</p>
            {envs.length ? (
              <form action={attachServiceIpAction} className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end">
                <input type="hidden" name="back" value="/service-ips" />
                <div>
                  <label htmlFor="attach-id" className="field-label">Service IP</label>
                  <select id="attach-id" name="id" className="field-input">
                    {list.serviceIps.map((s) => (
                      <option key={s.id} value={s.id}>{s.name} {s.ip} ({s.network.name})</option>
                    ))}
                  </select>
                </div>
                <div>
                  <label htmlFor="attach-environment" className="field-label">Environment</label>
                  <select id="attach-environment" name="environment" className="field-input">
                    {envs.map((e) => (
                      <option key={e.id} value={e.id}>{e.hostname} ({e.networkIds.map((n) => netName.get(n)).join(", ")})</option>
                    ))}
                  </select>
                </div>
                <button type="submit" className="btn btn-primary w-full sm:w-auto">Attach</button>
              </form>
            ) : (
              <p className="text-sm text-slate-500">None of your environments is running now.</p>
            )}
          </section>
        ) : null}

        {canReserve ? (
          <section aria-labelledby="reserve-heading" className="card p-5">
            <h2 id="reserve-heading" className="mb-3 text-base">Reserve a service IP</h2>
            <form action={reserveServiceIpAction} className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_1fr_1fr_auto] lg:items-end">
              <input type="hidden" name="back" value="/service-ips" />
              <div>
                <label htmlFor="reserve-name" className="field-label">Name</label>
                <input id="reserve-name" name="name" className="field-input" required minLength={2} maxLength={40} pattern="[a-z][a-z0-9\-]*[a-z0-9]" placeholder="web-front" autoComplete="off" />
                <p className="field-hint">Lowercase letters, digits and hyphens</p>
              </div>
              <div>
                <label htmlFor="reserve-network" className="field-label">Network</label>
                <select id="reserve-network" name="network" className="field-input">
                  {nets.map((n) => (
                    <option key={n.id} value={n.slug}>{n.name} ({n.cidr})</option>
                  ))}
                </select>
              </div>
              <div>
                <label htmlFor="reserve-group" className="field-label">Group</label>
                <select id="reserve-group" name="group" className="field-input">
                  {mine.map((g) => (
                    <option key={g.slug} value={g.slug}>{g.name}</option>
                  ))}
                </select>
              </div>
              <button type="submit" className="btn btn-primary w-full sm:w-auto">Reserve</button>
            </form>
          </section>
        ) : null}
      </div>
    </>
  );
}
