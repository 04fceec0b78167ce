import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { listGroups, listUsersWithGroups } from "@/lib/users/queries";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { CreateUserForm } from "@/components/admin/CreateUserForm";
import { formatDateTime } from "@/components/format";
import { TableHead } from "@/components/TableHead";
import { stackedOnPhones } from "@/components/admin/stacked";
import { Pager, pageNumber } from "@/components/Pager";

export const metadata: Metadata = { title: "Users" };

/** Users a page, newest first. */
const USERS_PER_PAGE = 25;

/** The address of a page of the users list (the e-mail filter kept). */
function usersHref(page: number, email: string | undefined): string {
  const q = new URLSearchParams();
  if (email) q.set("email", email);
  if (page > 1) q.set("page", String(page));
  const text = q.toString();
  return `/admin/users${text ? `?${text}` : ""}`;
}

export default async function AdminUsersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/users");
  if (user.role !== "admin") forbidden();
  const sent = await searchParams;
  const page = pageNumber(sent.page);
  const emailParam = Array.isArray(sent.email) ? sent.email[0] : sent.email;
  const email = emailParam?.trim().slice(0, 200) || undefined;
  const db = await getDb();
  const [{ users, total }, groups] = await Promise.all([
    listUsersWithGroups(db, { offset: (page - 1) * USERS_PER_PAGE, perPage: USERS_PER_PAGE, email }),
    listGroups(db),
  ]);
  const pager = (label: string) => <Pager label={label} what="Users" page={page} perPage={USERS_PER_PAGE} total={total} shown={users.length} href={(p) => usersHref(p, email)} />;

  return (
    <>
      <PageHeader title="Users" description={`Newest first, ${USERS_PER_PAGE} a page. Approvers and admins approve for the group they are created in; groups and quotas are under Groups.`} />
      <div className="grid gap-6 xl:grid-cols-5">
        <section aria-label="Users list" className="card h-fit min-w-0 xl:col-span-3">
          <form method="get" action="/admin/users" role="search" aria-label="Find users" className="flex flex-col gap-2 border-b border-slate-100 px-4 py-3 sm:flex-row sm:items-end">
            <label className="flex-1 text-sm">
              <span className="field-label">E-mail contains</span>
              <input name="email" type="search" defaultValue={email ?? ""} maxLength={200} className="field-input" />
            </label>
            <span className="flex gap-3">
              <button type="submit" className="btn btn-secondary flex-1 sm:flex-none">Find</button>
              {email ? <Link prefetch={false} href="/admin/users" className="btn btn-secondary flex-1 sm:flex-none">Show all</Link> : null}
            </span>
          </form>
          {pager("Users pages")}
          <div className="overflow-x-auto">
            <table className={`table ${stackedOnPhones}`} aria-label="Users">
              <TableHead columns={["User", "Role", "Groups", "Created"]} />
              <tbody>
                {users.map((u) => (
                  <tr key={u.id} data-testid="user-row">
                    <td data-label="User">
                      <span className="font-medium text-slate-900">{u.name}</span>
                      <span className="block text-xs text-slate-500 [overflow-wrap:anywhere] sm:whitespace-nowrap">{u.email}</span>
                      {u.disabled ? <span className="text-xs font-medium text-rose-600">disabled</span> : null}
                    </td>
                    <td data-label="Role" className="capitalize">{u.role}</td>
                    <td data-label="Groups" className="text-xs">
                      {u.groups.map((g) => (
                        <span key={g.slug} className="block">{g.name}{g.as === "approver" ? <span className="text-slate-500"> (approver)</span> : null}</span>
                      ))}
                    </td>
                    <td data-label="Created" className="text-xs whitespace-nowrap">{formatDateTime(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {users.length === 0 && email ? <p className="px-4 py-3 text-sm text-slate-600">No user&apos;s e-mail contains &ldquo;{email}&rdquo;.</p> : null}
          {total > USERS_PER_PAGE ? pager("Users pages, bottom") : null}
        </section>
        <section aria-labelledby="create-user-heading" className="card h-fit p-5 xl:col-span-2">
          <h2 id="create-user-heading" className="mb-3 text-base">Create a user</h2>
          <CreateUserForm groups={groups.map((g) => ({ slug: g.slug, name: g.name }))} />
        </section>
      </div>
    </>
  );
}
