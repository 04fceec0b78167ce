import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/lib/db/client";
import { listOrders } from "@/lib/orders/queries";
import { requireUser } from "@/lib/auth/require-user";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/PageHeader";
import { ApprovalCard } from "@/components/policy/ApprovalCard";
import { preflightMany } from "@/lib/policy/preflight";
import { decisionsFor } from "@/lib/policy/policies";
import { decisionSentence } from "@/lib/policy/rules";
import { formatDateTime } from "@/components/format";
import { ExtensionRequestsList } from "@/components/leases/ExtensionRequestsList";
import { pendingExtensionRequests } from "@/lib/leases/queries";
import { HeldResizesList } from "@/components/orders/HeldResizesList";
import { heldResizes } from "@/lib/lifecycle/resize";

export const metadata: Metadata = { title: "Approvals" };

/**
 * Held orders a page: each is a card with its pre-flight checks and decision form, so a page
 * of them weighs what a hundred table rows do. Extension requests and resizes show as many at
 * most, oldest first.
 */
const CARDS_PER_PAGE = 25;

export default async function ApprovalsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const page = Math.max(1, Math.min(100_000, Number.parseInt(String(params.page ?? "1"), 10) || 1));
  const user = await requireUser(`/approvals${page > 1 ? `?page=${page}` : ""}`);
  if (user.role !== "approver" && user.role !== "admin") forbidden();
  const db = await getDb();
  const { orders: pending, hasMore } = await listOrders(db, user, "approvals", { page, perPage: CARDS_PER_PAGE });
  const pageHref = (n: number) => (n > 1 ? `/approvals?page=${n}` : "/approvals");
  const extensions = await pendingExtensionRequests(db, user, CARDS_PER_PAGE);
  const resizes = await heldResizes(db, user, CARDS_PER_PAGE);
  // Computed now, for each held order: would it succeed if approved?
  const checks = new Map((await preflightMany(db, pending.map((o) => o.id))).map((c) => [c.orderId, c]));
  const decisions = await decisionsFor(db, pending.map((o) => o.id));
  return (
    <>
      <PageHeader
        title="Approvals"
        description={`${user.role === "admin" ? "Orders held for approval in every group" : "Orders held for approval in the groups you approve for"}, oldest first, ${CARDS_PER_PAGE} a page.`}
        actions={<Link prefetch={false} href="/admin/campaigns" className="btn btn-secondary w-full sm:w-auto">Patch campaigns</Link>}
      />
      {pending.length === 0 ? (
        <div className="card p-10 text-center text-slate-600" data-testid="approvals-empty">{page > 1 ? "No held orders on this page." : "Nothing is waiting for a decision."}</div>
      ) : (
        <ul className="space-y-4" aria-label="Orders waiting for approval">
          {pending.map((o) => {
            const decision = decisions.get(o.id);
            return (
              <ApprovalCard key={o.id} orderId={o.id} orderName={o.name} preflight={checks.get(o.id)!}>
                <div className="flex flex-wrap items-baseline gap-3">
                  <h2 className="min-w-0 font-mono text-base wrap-anywhere">
                    <Link prefetch={false} href={`/orders/${o.id}`} className="text-sky-700 hover:underline">{o.name}</Link>
                  </h2>
                  <span className="text-xs text-slate-500">ordered {formatDateTime(o.createdAt)}</span>
                </div>
                <dl className="mt-3 grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-1.5 text-sm">
                  <dt className="text-slate-500">Who</dt>
                  <dd className="text-slate-900">{o.owner} <span className="text-slate-500">in {o.group}</span></dd>
                  <dt className="text-slate-500">What</dt>
                  <dd className="text-slate-900">{o.image} · {o.flavor} · {o.purpose} · {o.leaseDays} days</dd>
                  <dt className="text-slate-500">Why held</dt>
                  <dd className="text-amber-800" data-testid="approval-reason">
                    {decision && o.reason === decision.explanation ? decisionSentence(decision) : (o.reason ?? "—")}
                  </dd>
                </dl>
              </ApprovalCard>
            );
          })}
        </ul>
      )}
      {page > 1 || hasMore ? (
        <nav aria-label="Pages" className="mt-4 flex items-center justify-between text-sm">
          {page > 1 ? <Link prefetch={false} href={pageHref(page - 1)} className="text-sky-700 hover:underline">← Older</Link> : <span />}
          <span className="text-slate-500">Page {page}</span>
          {hasMore ? <Link prefetch={false} href={pageHref(page + 1)} className="text-sky-700 hover:underline">Newer →</Link> : <span />}
        </nav>
      ) : null}
      <ExtensionRequestsList requests={extensions} />
      {extensions.length >= CARDS_PER_PAGE ? (
        <p className="mt-2 text-sm text-slate-500">Showing the {CARDS_PER_PAGE} oldest requests; decide these to see the others.</p>
      ) : null}
      <HeldResizesList requests={resizes} />
      {resizes.length >= CARDS_PER_PAGE ? (
        <p className="mt-2 text-sm text-slate-500">Showing the {CARDS_PER_PAGE} oldest resizes; decide these to see the others.</p>
      ) : null}
    </>
  );
}
