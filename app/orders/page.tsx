import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/lib/db/client";
import { listOrders } from "@/lib/orders/queries";
import { UserError } from "@/lib/errors";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { formatDateTime } from "@/components/format";
import { TableHead } from "@/components/TableHead";
import { VersionBadge } from "@/components/orders/VersionBadge";

export const metadata: Metadata = { title: "My orders" };

/** Orders a page (the API lists 50); "Older orders" goes on. */
const ROWS_PER_PAGE = 25;

export default async function OrdersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const wantsAll = params.scope === "all";
  const user = await requireUser(`/orders${wantsAll ? "?scope=all" : ""}`);
  const isAdmin = user.role === "admin";
  const all = wantsAll && isAdmin;
  const db = await getDb();
  const page = Math.max(1, Math.min(100_000, Number.parseInt(String(params.page ?? "1"), 10) || 1));
  // "Older" carries the cursor after this page's last order: as fast on page 2000 as on page 2.
  const cursor = typeof params.cursor === "string" && params.cursor ? params.cursor : undefined;
  const listed = await listOrders(db, user, all ? "all" : "mine", { page, cursor, perPage: ROWS_PER_PAGE }).catch((err) => {
    if (err instanceof UserError && err.status === 422 && cursor) return listOrders(db, user, all ? "all" : "mine", { page, perPage: ROWS_PER_PAGE });
    throw err;
  });
  const { orders, hasMore, nextCursor } = listed;
  const pageHref = (n: number, after?: string | null) =>
    `/orders?${new URLSearchParams({ ...(all ? { scope: "all" } : {}), ...(n > 1 ? { page: String(n) } : {}), ...(after ? { cursor: after } : {}) })}`;

  return (
    <>
      <PageHeader
        title={all ? "All orders" : "My orders"}
        description={all ? "Every order in the portal, newest first." : "Your orders, newest first. Open one to follow its delivery."}
        actions={
          <>
            {isAdmin ? (
              <div className="inline-flex rounded-md border border-slate-300 bg-white p-0.5 text-sm shadow-sm" role="group" aria-label="Which orders">
                <Link prefetch={false}
                  href="/orders"
                  aria-current={!all ? "page" : undefined}
                  className={`rounded px-3 py-1 font-medium ${!all ? "bg-slate-800 text-white" : "text-slate-600 hover:bg-slate-100"}`}
                >
                  Mine
                </Link>
                <Link prefetch={false}
                  href="/orders?scope=all"
                  aria-current={all ? "page" : undefined}
                  className={`rounded px-3 py-1 font-medium ${all ? "bg-slate-800 text-white" : "text-slate-600 hover:bg-slate-100"}`}
                >
                  All
                </Link>
              </div>
            ) : null}
            <Link prefetch={false} href="/catalog" className="btn btn-primary flex-1 sm:flex-none">New order</Link>
          </>
        }
      />
      {wantsAll && !isAdmin ? (
        <p role="status" className="mb-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800">
          Only admins can see every order; showing yours.
        </p>
      ) : null}
      {orders.length === 0 ? (
        <div className="card p-10 text-center text-slate-600">
          {page > 1 ? "No orders on this page." : all ? "No orders yet." : "You have not ordered anything yet."}{" "}
          <Link prefetch={false} href="/catalog" className="font-medium text-sky-700 hover:underline">Browse the catalog</Link>
        </div>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table table-stack" aria-label={all ? "All orders" : "My orders"}>
            <TableHead columns={["Name", "Image", "Size", "Status", ...(all ? ["Owner"] : []), "Created", "Ready at"]} />
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} className="hover:bg-slate-50" data-testid="order-row">
                  <td>
                    <Link prefetch={false} href={`/orders/${o.id}`} className="font-mono font-medium text-sky-700 hover:underline">{o.name}</Link>
                  </td>
                  <td data-label="Image">
                    {o.image} <VersionBadge version={o.imageVersion} outdated={o.outdated} />
                  </td>
                  <td data-label="Size">{o.flavor}</td>
                  <td data-label="Status"><StatusBadge status={o.status} /></td>
                  {all ? <td data-label="Owner" className="text-slate-600">{o.owner}<span className="block text-xs text-slate-400">{o.group}</span></td> : null}
                  <td data-label="Created" className="whitespace-nowrap text-slate-600">{formatDateTime(o.createdAt)}</td>
                  <td data-label="Ready at" className="whitespace-nowrap text-slate-600">{o.readyAt ? formatDateTime(o.readyAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page > 1 || hasMore ? (
        <nav aria-label="Pages of orders" className="mt-4 flex items-center justify-between text-sm">
          {page > 1 ? <Link prefetch={false} href={pageHref(page - 1)} className="btn btn-secondary">Newer orders</Link> : <span />}
          <span className="text-slate-500">Page {page}</span>
          {hasMore ? <Link prefetch={false} href={pageHref(page + 1, nextCursor)} className="btn btn-secondary">Older orders</Link> : <span />}
        </nav>
      ) : null}
    </>
  );
}
