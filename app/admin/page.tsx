import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { getDb } from "@/lib/db/client";
import { hostFailureInjection, hostsPageAt } from "@/lib/hosts/queries";
import { listAllImages } from "@/lib/catalog/queries";
import { listGroupsWithMembers } from "@/lib/policy/groups";
import { listNetworksWithFree } from "@/lib/net/networks";
import { listUsersWithGroups } from "@/lib/users/queries";
import { requireUser } from "@/lib/auth/require-user";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { CreateUserForm } from "@/components/admin/CreateUserForm";
import { HostControls } from "@/components/admin/HostControls";
import { AddNetworkForm } from "@/components/admin/AddNetworkForm";
import { EditNetworkForm } from "@/components/admin/EditNetworkForm";
import { AddImageForm } from "@/components/admin/AddImageForm";
import { formatDateTime, formatSize, hostKindLabels } from "@/components/format";
import { TableHead } from "@/components/TableHead";
import { Pager, pageNumber } from "@/components/Pager";

export const metadata: Metadata = { title: "Admin" };

function Usage({ used, total, unit = "" }: { used: number; total: number; unit?: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  const bar = pct >= 90 ? "bg-rose-500" : pct >= 70 ? "bg-amber-500" : "bg-emerald-500";
  return (
    <div className="min-w-32">
      <div className="text-xs text-slate-600">
        {used}{unit} / {total}{unit} <span className="text-slate-400">({pct}%)</span>
      </div>
      <div className="mt-1 h-1.5 rounded-full bg-slate-100" role="presentation">
        <div className={`h-1.5 rounded-full ${bar}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** The address of a page of the users list (the e-mail filter kept). */
function usersHref(page: number, email: string | undefined): string {
  const q = new URLSearchParams();
  if (email) q.set("email", email);
  if (page > 1) q.set("page", String(page));
  const text = q.toString();
  return `/admin${text ? `?${text}` : ""}#users`;
}

function FormCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="card mt-4 p-5">
      <h3 className="mb-3 text-base">{title}</h3>
      {children}
    </div>
  );
}

function Section({ id, title, description, children }: { id: string; title: string; description?: string; children: ReactNode }) {
  return (
    <section id={id} aria-labelledby={`${id}-heading`} className="scroll-mt-6">
      <div className="mb-3">
        <h2 id={`${id}-heading`}>{title}</h2>
        {description ? <p className="text-sm text-slate-600">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}

/** Users a page, newest first. */
const USERS_PER_PAGE = 50;
/** Hosts shown here; /admin/hosts pages through all of them. */
const HOSTS_SHOWN = 10;

export default async function AdminPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin");
  if (user.role !== "admin") forbidden();
  const sent = await searchParams;
  const page = pageNumber(sent.page);
  const emailParam = Array.isArray(sent.email) ? sent.email[0] : sent.email;
  const email = emailParam?.trim().slice(0, 200) || undefined;
  const db = await getDb();
  const [{ users, total: userTotal }, groups, { hosts, total: hostTotal }, networks, images, injections] = await Promise.all([
    listUsersWithGroups(db, { offset: (page - 1) * USERS_PER_PAGE, perPage: USERS_PER_PAGE, email }),
    listGroupsWithMembers(db),
    hostsPageAt(db, { offset: 0, perPage: HOSTS_SHOWN }),
    listNetworksWithFree(db),
    listAllImages(db),
    hostFailureInjection(db),
  ]);

  return (
    <>
      <PageHeader title="Administration" description="Users, hypervisor hosts, networks and the image catalog." />
      <nav aria-label="Governance" className="mb-3 flex flex-wrap gap-2 text-sm">
        <Link prefetch={false} href="/admin/groups" className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white shadow-sm hover:bg-sky-800">Groups and quotas</Link>
        <Link prefetch={false} href="/admin/policies" className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white shadow-sm hover:bg-sky-800">Approval rules</Link>
      </nav>
      <nav aria-label="Admin sections" className="mb-8 flex flex-wrap gap-2 text-sm">
        {[["users", email ? `Users (${userTotal} matching)` : `Users (${userTotal})`], ["hosts", `Hosts (${hostTotal})`], ["networks", `Networks (${networks.length})`], ["images", `Images (${images.length})`]].map(([id, label]) => (
          <a key={id} href={`#${id}`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium text-slate-700 shadow-sm hover:bg-slate-50">{label}</a>
        ))}
        <Link prefetch={false} href="/admin/dashboard" className="rounded-md border border-sky-300 bg-sky-50 px-3 py-1.5 font-medium text-sky-800 shadow-sm hover:bg-sky-100">Delivery dashboard</Link>
        <Link prefetch={false} href="/admin/audit" className="rounded-md border border-sky-300 bg-sky-50 px-3 py-1.5 font-medium text-sky-800 shadow-sm hover:bg-sky-100">Audit log</Link>
      </nav>

      <div className="space-y-10">
        <Section id="users" title="Users" description={`Newest first, ${USERS_PER_PAGE} a page. Approvers and admins approve for the group they are created in.`}>
          <div className="grid gap-6 xl:grid-cols-5">
            <div className="card h-fit overflow-x-auto xl:col-span-3">
              <form method="get" action="/admin#users" role="search" aria-label="Find users" className="flex flex-col gap-2 border-b border-slate-100 px-4 py-3 sm:flex-row sm:items-end">
                <label className="flex-1 text-sm">
                  <span className="field-label">E-mail contains</span>
                  <input name="email" type="search" defaultValue={email ?? ""} maxLength={200} className="field-input" />
                </label>
                <span className="flex gap-3">
                  <button type="submit" className="btn btn-secondary">Find</button>
                  {email ? <Link prefetch={false} href="/admin#users" className="btn btn-secondary">Show all</Link> : null}
                </span>
              </form>
              <Pager label="Users pages" what="Users" page={page} perPage={USERS_PER_PAGE} total={userTotal} shown={users.length} href={(p) => usersHref(p, email)} />
              <table className="table" aria-label="Users">
                <TableHead columns={["User", "Role", "Groups", "Created"]} />
                <tbody>
                  {users.map((u) => (
                    <tr key={u.id} data-testid="user-row">
                      <td>
                        <span className="font-medium text-slate-900">{u.name}</span>
                        <span className="block text-xs text-slate-500">{u.email}</span>
                        {u.disabled ? <span className="text-xs font-medium text-rose-600">disabled</span> : null}
                      </td>
                      <td className="capitalize">{u.role}</td>
                      <td className="text-xs">
                        {u.groups.map((g) => (
                          <span key={g.slug} className="block">{g.name}{g.as === "approver" ? <span className="text-slate-500"> (approver)</span> : null}</span>
                        ))}
                      </td>
                      <td className="text-xs whitespace-nowrap">{formatDateTime(u.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {users.length === 0 && email ? <p className="px-4 py-3 text-sm text-slate-600">No user&apos;s e-mail contains &ldquo;{email}&rdquo;.</p> : null}
              {userTotal > USERS_PER_PAGE ? <Pager label="Users pages, bottom" what="Users" page={page} perPage={USERS_PER_PAGE} total={userTotal} shown={users.length} href={(p) => usersHref(p, email)} /> : null}
            </div>
            <div className="card h-fit p-5 xl:col-span-2">
              <h3 className="mb-3 text-base">Create a user</h3>
              <CreateUserForm groups={groups.map((g) => ({ slug: g.slug, name: g.name }))} />
              <div className="mt-5 border-t border-slate-100 pt-4">
                <h3 className="mb-2">Groups</h3>
                <ul className="space-y-1 text-sm">
                  {groups.map((g) => (
                    <li key={g.id} className="flex justify-between gap-3">
                      <span>{g.name} <code className="text-xs text-slate-500">{g.slug}</code></span>
                      <span className="text-slate-500">
                        {g.members} {g.members === 1 ? "member" : "members"} · {g.autoApprove ? "auto-approves" : "needs approval"}
                      </span>
                    </li>
                  ))}
                </ul>
              </div>
            </div>
          </div>
        </Section>

        <Section id="hosts" title="Hypervisor hosts" description="Capacity and what live environments use of it. Draining hosts take no new environments; sim hosts can be told to fail a step.">
          <p className="mb-3 flex flex-col gap-1 text-sm sm:flex-row sm:gap-4">
            <span className="text-slate-600" data-testid="hosts-shown">
              {hostTotal > hosts.length ? `The first ${hosts.length} of ${hostTotal} hosts, by name.` : `All ${hostTotal} hosts.`}
            </span>
            {hostTotal > hosts.length ? <Link href="/admin/hosts" className="font-medium text-sky-700 hover:underline">All {hostTotal} hosts →</Link> : null}
            <Link href="/admin/hosts" className="font-medium text-sky-700 hover:underline">Register, test and remove hosts →</Link>
          </p>
          <div className="card overflow-x-auto">
            <table className="table" aria-label="Hosts">
              <TableHead columns={["Host", "Kind", "State", "Environments", "vCPUs", "Memory", "Disk", "Controls"]} />
              <tbody>
                {hosts.map((h) => (
                  <tr key={h.id}>
                    <td>
                      <span className="font-medium text-slate-900">{h.name}</span>
                      <span className="block font-mono text-xs whitespace-nowrap text-slate-500">{h.address}</span>
                    </td>
                    <td>
                      {hostKindLabels[h.kind] ?? h.kind}
                      <span className="block text-xs text-slate-500">{h.features.join(", ")}</span>
                    </td>
                    <td><StatusBadge status={h.state} /></td>
                    <td>{h.used.environments}</td>
                    <td><Usage used={h.used.vcpus} total={h.capacity.vcpus} /></td>
                    <td><Usage used={Math.round(h.used.memoryMb / 1024)} total={Math.round(h.capacity.memoryMb / 1024)} unit=" GiB" /></td>
                    <td><Usage used={h.used.diskGb} total={h.capacity.diskGb} unit=" GB" /></td>
                    <td>
                      <HostControls hostId={h.id} hostName={h.name} kind={h.kind} state={h.state} failSteps={injections.get(h.id) ?? {}} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>

        <Section id="networks" title="Networks" description="Every environment gets an address on the oldest service network and on the production network it was ordered on. Usable addresses exclude network, broadcast and gateway; a guest's MAC is the network's prefix followed by the low 24 bits of its address.">
          <div className="card overflow-x-auto">
            <table className="table" aria-label="Networks">
              <TableHead columns={["Network", "Purpose", "CIDR", "Gateway", "Bridge", "MAC prefix", "Addresses", "Free"]} />
              <tbody>
                {networks.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <span className="font-medium text-slate-900">{n.name}</span>
                      <code className="block text-xs text-slate-500">{n.slug}</code>
                    </td>
                    <td>{n.purpose}</td>
                    <td className="font-mono">{n.cidr}</td>
                    <td className="font-mono">{n.gateway}</td>
                    <td className="font-mono">{n.bridge}</td>
                    <td className="font-mono">{n.macPrefix}</td>
                    <td><Usage used={n.used} total={n.total} /></td>
                    <td className="font-medium text-slate-900" data-testid="network-free">{n.free}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <FormCard title="Add a network">
            <AddNetworkForm />
          </FormCard>
          <FormCard title="Change a network">
            <EditNetworkForm networks={networks} />
          </FormCard>
        </Section>

        <Section id="images" title="Images" description="The catalog customers order from. Solaris images run in zones (or sim); Linux images on sim, QEMU/KVM or Xen.">
          <div className="card overflow-x-auto">
            <table className="table" aria-label="Images">
              <TableHead columns={["Image", "OS", "Hypervisors", "Source", "Purpose", "Size", "In catalog"]} />
              <tbody>
                {images.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <span className="font-medium text-slate-900">{i.name}</span>
                      <span className="block text-xs text-slate-500">{i.version} · <code>{i.slug}</code></span>
                    </td>
                    <td className="capitalize">{i.os}</td>
                    <td className="text-xs">{i.hostKinds.map((k) => hostKindLabels[k] ?? k).join(", ")}</td>
                    <td>{i.source}{i.rootType ? `, ${i.rootType} root` : ""}</td>
                    <td>{i.purpose}</td>
                    <td>{formatSize(i.sizeMb)}</td>
                    <td>{i.active ? "yes" : <span className="text-slate-400">no</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <FormCard title="Add an image">
            <AddImageForm />
          </FormCard>
        </Section>
      </div>
    </>
  );
}
