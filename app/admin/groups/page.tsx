import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { asc } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { flavors, hosts, quotas } from "@/lib/db/schema";
import { limitsView, listGroupsForAdmin } from "@/lib/policy/groups";
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

export const metadata: Metadata = { title: "Groups and quotas" };

export default async function AdminGroupsPage() {
  const user = await requireUser("/admin/groups");
  if (user.role !== "admin") forbidden();
  const db = await getDb();
  const [groups, images, flavorRows, networks, hostRows, users, userLimits] = await Promise.all([
    listGroupsForAdmin(db),
    listAllImages(db),
    db.select().from(flavors).orderBy(asc(flavors.vcpus), asc(flavors.memoryMb)),
    listNetworksWithFree(db),
    db.select().from(hosts).orderBy(asc(hosts.name)),
    listUsers(db),
    db.select().from(quotas),
  ]);
  const options = {
    images: images.map((i) => ({ id: i.id, label: i.name, detail: `${i.os}${i.licensed ? ", licensed" : ""}${i.active ? "" : ", not in catalog"}` })),
    flavors: flavorRows.map((f) => ({ id: f.id, label: f.name, detail: `${f.vcpus} vCPU${f.cpuCap ? ` capped at ${f.cpuCap}` : ""}, ${formatMemory(f.memoryMb)}` })),
    networks: networks.filter((n) => n.purpose === "production").map((n) => ({ id: n.id, label: n.name, detail: n.cidr })),
    hosts: hostRows.map((h) => ({ id: h.id, label: h.name, detail: `${hostKindLabels[h.kind] ?? h.kind}, ${h.state}; tags: ${h.tags.join(", ") || "none"}` })),
  };
  const limitsByUser = new Map(userLimits.filter((q) => q.userId).map((q) => [q.userId!, q]));
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
          <h2 id="groups-heading">Groups ({groups.length})</h2>
          {groups.length === 0 ? <p className="card p-6 text-slate-600">No groups yet: create one above.</p> : null}
          {groups.map((g) => (
            <GroupEditor key={g.id} group={g} {...options} emailList="user-emails" />
          ))}
          {/* The e-mails every group's "add a member" field suggests: once for the page. */}
          <datalist id="user-emails">
            {users.map((u) => (
              <option key={u.id} value={u.email} />
            ))}
          </datalist>
        </section>
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
