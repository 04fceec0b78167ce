import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { asc, eq, sql } from "drizzle-orm";
import { getDb, type Db } from "@/lib/db/client";
import { flavors, hosts, quotas, users } from "@/lib/db/schema";
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
import { stackedOnPhones } from "@/components/admin/stacked";

export const metadata: Metadata = { title: "Groups and quotas" };

/** The user of e-mail `email` (any case) with their own limits, or null. */
async function userWithQuota(db: Db, email: string) {
  const [u] = await db.select({ id: users.id, email: users.email }).from(users).where(sql`lower(${users.email}) = lower(${email})`);
  if (!u) return null;
  const [q] = await db.select().from(quotas).where(eq(quotas.userId, u.id));
  return { id: u.id, email: u.email, limits: limitsView(q ? { environments: q.environments, vcpus: q.vcpus, memoryMb: q.memoryMb, diskGb: q.diskGb, licensedCores: q.licensedCores } : noLimits) };
}

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
  const quotaEmail = (Array.isArray(sent.quotaUser) ? sent.quotaUser[0] : sent.quotaUser)?.trim().slice(0, 200) || undefined;
  const db = await getDb();
  const [groupRows, selected, users, quotaUser] = await Promise.all([
    listGroupsWithMembers(db),
    slug ? groupForAdminBySlug(db, slug) : Promise.resolve(null),
    // The e-mails the open editor's "add a member" field suggests.
    slug ? listUsers(db) : Promise.resolve([]),
    quotaEmail ? userWithQuota(db, quotaEmail) : Promise.resolve(null),
  ]);
  const editing = selected
    ? await Promise.all([
        listAllImages(db),
        db.select().from(flavors).orderBy(asc(flavors.vcpus), asc(flavors.memoryMb)),
        listNetworksWithFree(db),
        db.select().from(hosts).orderBy(asc(hosts.name)),
      ]).then(([images, flavorRows, networks, hostRows]) => ({
        // A retired image is offered nowhere any more.
        images: images.filter((i) => !i.retiredAt).map((i) => ({ id: i.id, label: i.name, detail: `${i.os}${i.licensed ? ", licensed" : ""}${i.active ? "" : ", hidden from the catalog"}` })),
        flavors: flavorRows.map((f) => ({ id: f.id, label: f.name, detail: `${f.vcpus} vCPU${f.cpuCap ? ` capped at ${f.cpuCap}` : ""}, ${formatMemory(f.memoryMb)}` })),
        networks: networks.filter((n) => n.purpose === "production").map((n) => ({ id: n.id, label: n.name, detail: n.cidr })),
        hosts: hostRows.map((h) => ({ id: h.id, label: h.name, detail: `${hostKindLabels[h.kind] ?? h.kind}, ${h.state}; tags: ${h.tags.join(", ") || "none"}` })),
      }))
    : null;
  return (
    <>
      <PageHeader title="Groups and quotas" description="Customer pools and courses: who is in them, what they may order, on which hosts, and how much of it." />
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
              <table className={`table ${stackedOnPhones}`} aria-label="Groups">
                <TableHead columns={["Group", "Kind", "Members", "Approval", "Edit"]} />
                <tbody>
                  {groupRows.map((g) => (
                    <tr key={g.id} data-testid="group-row" data-group={g.slug} aria-current={selected?.id === g.id ? "true" : undefined} className={selected?.id === g.id ? "bg-sky-50" : undefined}>
                      <td data-label="Group">
                        <span className="font-medium text-slate-900">{g.name}</span>
                        <code className="block text-xs text-slate-500">{g.slug}</code>
                      </td>
                      <td data-label="Kind" className="capitalize">{g.kind}</td>
                      <td data-label="Members">{g.members}</td>
                      <td data-label="Approval" className="text-sm">{g.autoApprove ? "auto-approves" : "needs approval"}</td>
                      <td data-label="Edit">
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
          <form method="get" action="/admin/groups#user-quota-heading" role="search" aria-label="Find a user's quota" className="mb-4 flex flex-col gap-2 sm:flex-row sm:items-end">
            {slug ? <input type="hidden" name="group" value={slug} /> : null}
            <label className="text-sm sm:w-96">
              <span className="field-label">User&apos;s e-mail</span>
              <input name="quotaUser" type="email" required defaultValue={quotaEmail ?? ""} maxLength={200} className="field-input" />
            </label>
            <button type="submit" className="btn btn-secondary">Show quota</button>
          </form>
          {quotaEmail && !quotaUser ? <p role="alert" className="text-sm text-rose-700">No user with e-mail {quotaEmail}.</p> : null}
          {quotaUser ? <UserQuotaForm key={quotaUser.id} users={[quotaUser]} /> : null}
        </section>
      </div>
    </>
  );
}
