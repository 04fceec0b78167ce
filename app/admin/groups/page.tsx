import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { asc, isNotNull } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { flavors, hosts, quotas } from "@/lib/db/schema";
import { groupForAdminBySlug, limitsView, listGroupsWithMembers } from "@/lib/policy/groups";
import { listAllImages } from "@/lib/catalog/queries";
import { listNetworksWithFree } from "@/lib/net/networks";
import { listUsers } from "@/lib/users/queries";
import { noLimits } from "@/lib/policy/quota-math";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { GroupEditor } from "@/components/policy/GroupEditor";
import { CreateGroupForm } from "@/components/policy/CreateGroupForm";
import { UserQuotaForm } from "@/components/policy/UserQuotaForm";
import { formatMemory, hostKindLabels } from "@/components/format";
import { TableHead } from "@/components/TableHead";

export const metadata: Metadata = { title: "Groups and quotas" };

/** Where a group's editor opens: the page with `?group=<slug>`, scrolled to the editor. */
const editHref = (slug: string) => `/admin/groups?group=${encodeURIComponent(slug)}#group-editor`;

/**
 * The groups as one list (name, kind, members, approval) and the editor of one group at a time,
 * opened with `?group=<slug>`: the page stays small however many groups and hosts there are.
 */
export default async function AdminGroupsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/groups");
  if (user.role !== "admin") forbidden();
  const sent = await searchParams;
  const slug = (Array.isArray(sent.group) ? sent.group[0] : sent.group)?.slice(0, 200);
  const db = await getDb();
  const [groupRows, selected, users, userLimits] = await Promise.all([
    listGroupsWithMembers(db),
    slug ? groupForAdminBySlug(db, slug) : Promise.resolve(null),
    listUsers(db),
    db.select().from(quotas).where(isNotNull(quotas.userId)),
  ]);
  const editing = selected
    ? await Promise.all([
        listAllImages(db),
        db.select().from(flavors).orderBy(asc(flavors.vcpus), asc(flavors.memoryMb)),
        listNetworksWithFree(db),
        db.select().from(hosts).orderBy(asc(hosts.name)),
      ]).then(([images, flavorRows, networks, hostRows]) => ({
        images: images.map((i) => ({ id: i.id, label: i.name, detail: `${i.os}${i.licensed ? ", licensed" : ""}${i.active ? "" : ", not in catalog"}` })),
        flavors: flavorRows.map((f) => ({ id: f.id, label: f.name, detail: `${f.vcpus} vCPU${f.cpuCap ? ` capped at ${f.cpuCap}` : ""}, ${formatMemory(f.memoryMb)}` })),
        networks: networks.filter((n) => n.purpose === "production").map((n) => ({ id: n.id, label: n.name, detail: n.cidr })),
        hosts: hostRows.map((h) => ({ id: h.id, label: h.name, detail: `${hostKindLabels[h.kind] ?? h.kind}, ${h.state}; tags: ${h.tags.join(", ") || "none"}` })),
      }))
    : null;
  const limitsByUser = new Map(userLimits.map((q) => [q.userId!, q]));
  return (
    <>
      <PageHeader title="Groups and quotas" description="Customer pools and courses: who is in them, what they may order, on which hosts, and how much of it." />
      <p className="mb-6 text-sm">
        <Link prefetch={false} href="/admin" className="text-sky-700 hover:underline">← Administration</Link>
        <span className="mx-2 text-slate-300">|</span>
        <Link prefetch={false} href="/admin/policies" className="text-sky-700 hover:underline">Approval rules</Link>
      </p>
      <div className="space-y-8">
        <section aria-labelledby="new-group" className="card p-5">
          <h2 id="new-group" className="mb-3 text-base">Create a group</h2>
          <CreateGroupForm />
        </section>
        <section aria-labelledby="groups-heading" className="space-y-4">
          <h2 id="groups-heading">Groups ({groupRows.length})</h2>
          <p className="text-sm text-slate-600">By name. Edit opens one group&apos;s members, quota, allowed images, flavors and networks, and hosts below the list.</p>
          {groupRows.length === 0 ? (
            <p className="card p-6 text-slate-600">No groups yet: create one above.</p>
          ) : (
            <div className="card overflow-x-auto">
              <table className="table" aria-label="Groups">
                <TableHead columns={["Group", "Kind", "Members", "Approval", "Edit"]} />
                <tbody>
                  {groupRows.map((g) => (
                    <tr key={g.id} data-testid="group-row" data-group={g.slug} aria-current={selected?.id === g.id ? "true" : undefined} className={selected?.id === g.id ? "bg-sky-50" : undefined}>
                      <td>
                        <span className="font-medium text-slate-900">{g.name}</span>
                        <code className="block text-xs text-slate-500">{g.slug}</code>
                      </td>
                      <td className="capitalize">{g.kind}</td>
                      <td>{g.members}</td>
                      <td className="text-sm">{g.autoApprove ? "auto-approves" : "needs approval"}</td>
                      <td>
                        <Link prefetch={false} href={editHref(g.slug)} aria-label={`Edit ${g.name}`} className="font-medium text-sky-700 hover:underline">Edit</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        {slug && !selected ? (
          <p role="alert" className="card p-5 text-sm text-rose-700">No group &ldquo;{slug}&rdquo;: choose one from the list.</p>
        ) : null}
        {selected && editing ? (
          <section id="group-editor" aria-label={`Editing ${selected.name}`} className="scroll-mt-6 space-y-3">
            <p className="text-sm">
              <Link prefetch={false} href="/admin/groups" className="text-sky-700 hover:underline">Close the editor</Link>
            </p>
            <GroupEditor key={selected.id} group={selected} {...editing} emailList="user-emails" />
            {/* The e-mails the editor's "add a member" field suggests. */}
            <datalist id="user-emails">
              {users.map((u) => (
                <option key={u.id} value={u.email} />
              ))}
            </datalist>
          </section>
        ) : null}
        <section aria-labelledby="user-quota-heading" className="card p-5">
          <h2 id="user-quota-heading" className="text-base">Quota of a user</h2>
          <p className="mb-3 text-sm text-slate-600">Limits one person across all their groups, on top of each group&apos;s quota. Empty: no limit.</p>
          <UserQuotaForm
            users={users.map((u) => {
              const q = limitsByUser.get(u.id);
              return { id: u.id, email: u.email, limits: limitsView(q ? { environments: q.environments, vcpus: q.vcpus, memoryMb: q.memoryMb, diskGb: q.diskGb, licensedCores: q.licensedCores } : noLimits) };
            })}
          />
        </section>
      </div>
    </>
  );
}
