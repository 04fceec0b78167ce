import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { asc, isNotNull } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { groups, images } from "@/lib/db/schema";
import { listRules, recentDecisions } from "@/lib/policy/policies";
import { formatDateTime } from "@/components/format";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { RuleList } from "@/components/policy/RuleList";
import { RuleForm } from "@/components/policy/RuleForm";
import { TableHead } from "@/components/TableHead";
import { stackedOnPhones } from "@/components/admin/stacked";

export const metadata: Metadata = { title: "Approval rules" };

export default async function AdminPoliciesPage() {
  const user = await requireUser("/admin/policies");
  if (user.role !== "admin") forbidden();
  const db = await getDb();
  const [rules, groupRows, imageRows, decisions] = await Promise.all([
    listRules(db),
    db.select({ id: groups.id, name: groups.name }).from(groups).orderBy(asc(groups.name)),
    db.select({ id: images.id, name: images.name, retired: isNotNull(images.retiredAt) }).from(images).orderBy(asc(images.name)),
    recentDecisions(db),
  ]);
  return (
    <>
      <PageHeader
        title="Approval rules"
        description="Rules are tried from the top; the first one whose conditions all hold approves, holds or refuses the order, and the customer and the approver read why."
      />
      <div className="space-y-8">
        <section aria-labelledby="rules-heading" className="space-y-3">
          <h2 id="rules-heading">Rules ({rules.length})</h2>
          <RuleList
            rules={rules.map((r) => ({ id: r.id, name: r.name, position: r.position, enabled: r.enabled, outcome: r.outcome, explanation: r.explanation, conditions: r.conditions, note: r.note ?? null }))}
            groups={groupRows}
            images={imageRows}
          />
          <div className="rounded-md border border-dashed border-slate-300 p-3 text-sm text-slate-600" data-testid="rule-default">
            <span className="font-medium text-slate-800">When no rule matches:</span> orders by admins and approvers are approved; customers and
            students wait for an approver unless their group approves automatically. Quotas apply to every order, whatever the rules say.
          </div>
        </section>
        <section aria-labelledby="add-rule-heading" className="card p-5">
          <h2 id="add-rule-heading" className="mb-3 text-base">Add a rule</h2>
          {/* New rules name images still in use; the rules above keep the names of retired ones. */}
          <RuleForm groups={groupRows} images={imageRows.filter((i) => !i.retired)} />
        </section>
        <section aria-labelledby="decisions-heading" className="space-y-3">
          <h2 id="decisions-heading">Recent decisions</h2>
          {decisions.length === 0 ? (
            <p className="text-sm text-slate-600">No orders decided yet.</p>
          ) : (
            <div className="card overflow-x-auto">
              <table className={`table ${stackedOnPhones}`} aria-label="Recent decisions">
                <TableHead columns={["When", "Who", "Order", "Decided by", "What they read"]} />
                <tbody>
                  {decisions.map((d) => (
                    <tr key={d.id} data-testid="decision-row">
                      <td data-label="When" className="text-xs whitespace-nowrap">{formatDateTime(d.at.toISOString())}</td>
                      <td data-label="Who" className="text-xs">{d.user}{d.group ? <span className="block text-slate-500">{d.group}</span> : null}</td>
                      <td data-label="Order" className="font-mono text-xs">
                        {d.orderId ? (
                          <Link prefetch={false} href={`/orders/${d.orderId}`} className="text-sky-700 hover:underline">{String(d.request.name ?? "order")}</Link>
                        ) : (
                          <span className="text-slate-500">{String(d.request.name ?? "")} (not created)</span>
                        )}
                      </td>
                      <td data-label="Decided by" className="text-xs">{d.rule}</td>
                      <td data-label="What they read" className={`text-sm ${d.outcome === "refuse" ? "text-rose-700" : d.outcome === "hold" ? "text-amber-800" : "text-emerald-700"}`}>{d.explanation}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
