import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { DELIVERY_FIGURES_TTL_MS, sharedDeliveryFigures } from "@/lib/delivery/queries";
import { requireUser } from "@/lib/auth/require-user";
import { deliveryQuery, deliveryRange, deliveryRanges } from "@/lib/delivery/input";
import { PageHeader } from "@/components/PageHeader";
import { EstimateVsActualChart, RangeBarChart, ShareGauge } from "@/components/delivery/charts";
import { percent, shortDuration } from "@/components/delivery/duration";
import { formatDateTime, formatTime } from "@/components/format";
import { TableHead } from "@/components/TableHead";
import { DateTimeField } from "@/components/admin/DateTimeField";

export const metadata: Metadata = { title: "Delivery dashboard" };
export const dynamic = "force-dynamic";

const rangeLabels: Record<keyof typeof deliveryRanges, string> = { "24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days", "365d": "1 year" };

function Card({ title, description, children, testId }: { title: string; description?: string; children: ReactNode; testId?: string }) {
  return (
    <section className="card p-5" aria-label={title} data-testid={testId}>
      <h2 className="text-base">{title}</h2>
      {description ? <p className="mt-0.5 mb-3 text-sm text-slate-600">{description}</p> : <div className="mb-3" />}
      {children}
    </section>
  );
}

/** A bar chart keeps a readable size on a phone and scrolls sideways in its own box. */
function Wide({ children }: { children: ReactNode }) {
  return (
    <div className="overflow-x-auto">
      <div className="min-w-[44rem]">{children}</div>
    </div>
  );
}

function AsTable({ caption, head, rows }: { caption: string; head: string[]; rows: ReactNode[][] }) {
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-sky-700 hover:underline">Show as table</summary>
      <div className="mt-2 overflow-x-auto">
        <table className="table">
          <caption className="sr-only">{caption}</caption>
          <TableHead columns={head} />
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>{r.map((c, j) => (j === 0 ? <th key={j} scope="row" className="!bg-white !text-sm !font-medium !normal-case !tracking-normal !text-slate-900">{c}</th> : <td key={j}>{c}</td>))}</tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export default async function DeliveryDashboard({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/dashboard");
  if (user.role !== "admin") forbidden();
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = deliveryQuery.safeParse(raw);
  const q = parsed.success ? parsed.data : {};
  const range = deliveryRange(q);
  const db = await getDb();
  const f = await sharedDeliveryFigures(db, range);
  // The figures may be a few seconds old (shared between views): the range is theirs.
  const shown = { from: new Date(f.range.from), to: new Date(f.range.to) };
  const problem = parsed.success ? null : parsed.error.issues.map((i) => i.message).join("; ");
  const fieldProblem = (k: "from" | "to") => (parsed.success ? undefined : parsed.error.issues.find((i) => i.path[0] === k)?.message);

  const imageRows = f.perImage.map((i) => ({ key: i.image, label: i.name, sub: `${i.delivery.count} delivered · ${percent(i.withinHour.share)} in 1 h`, p50: i.delivery.p50, p95: i.delivery.p95, count: i.delivery.count }));
  const stepRows = f.perStep.map((s) => ({ key: s.step, label: s.label, p50: s.actual.p50, p95: s.actual.p95, count: s.actual.count }));
  const estimateRows = f.perStep.map((s) => ({ key: s.step, label: s.label, estimate: s.estimate.p50, actual: s.estimate.actualP50 ?? s.actual.p50, count: s.estimate.count || s.actual.count }));
  const b = f.breakdown;
  const splitRows = [
    { key: "approval", label: "Waiting for approval", p50: b.approval.p50, p95: b.approval.p95, count: b.approval.count },
    { key: "queue", label: "Queued for a worker", p50: b.queue.p50, p95: b.queue.p95, count: b.queue.count },
    { key: "pipeline", label: "Deploy pipeline", p50: b.pipeline.p50, p95: b.pipeline.p95, count: b.pipeline.count },
    { key: "total", label: "Submission to ready", p50: b.total.p50, p95: b.total.p95, count: b.total.count },
  ];

  return (
    <>
      <PageHeader
        title="Delivery within the hour"
        description={`Orders submitted ${formatDateTime(shown.from)} – ${formatDateTime(shown.to)}: how many were ready within one hour of submission, and where the time went.`}
      />
      <p className="-mt-3 mb-4 text-xs text-slate-500" data-testid="figures-as-of">
        Figures as of {formatTime(f.generatedAt)} UTC; they are computed at most every {DELIVERY_FIGURES_TTL_MS / 1000} s.
      </p>

      <div className="mb-6 flex flex-wrap items-end gap-4">
        <nav aria-label="Time range" className="flex flex-wrap gap-1 text-sm">
          {(Object.keys(deliveryRanges) as (keyof typeof deliveryRanges)[]).map((key) => {
            const active = range.label === key;
            return (
              <Link prefetch={false} key={key} href={`/admin/dashboard?range=${key}`} aria-current={active ? "true" : undefined}
                className={`rounded-md border px-3 py-1.5 font-medium ${active ? "border-sky-700 bg-sky-700 text-white" : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50"}`}>
                {rangeLabels[key]}
              </Link>
            );
          })}
        </nav>
        <form method="get" action="/admin/dashboard" className="grid w-full gap-2 text-sm sm:flex sm:w-auto sm:items-start" aria-label="Custom time range">
          {/* What was typed stays in a field that was not understood; otherwise the range shown. */}
          <DateTimeField name="from" label="From" value={fieldProblem("from") ? raw.from : shown.from} error={fieldProblem("from")} />
          <DateTimeField name="to" label="To" value={fieldProblem("to") ? raw.to : shown.to} error={fieldProblem("to")} />
          <button type="submit" className="btn btn-secondary sm:mt-6">Show</button>
        </form>
      </div>
      {problem ? <p role="alert" className="mb-4 rounded-md border border-rose-300 bg-rose-50 px-4 py-2 text-sm text-rose-800">{problem}; showing the last 7 days.</p> : null}
      {f.truncated ? <p className="mb-4 text-sm text-amber-700">This range holds more orders than one view reads; the oldest are left out. Choose a shorter range.</p> : null}

      {f.orders.submitted === 0 ? (
        <div className="card p-8 text-center" data-testid="dashboard-empty">
          <h2 className="text-base">No orders in this range</h2>
          <p className="mt-1 text-sm text-slate-600">Nothing was submitted between these times. Choose a longer range, or order an environment from the catalog.</p>
        </div>
      ) : (
        <div className="space-y-6">
          <div className="grid gap-6 md:grid-cols-3">
            <Card title="Ready within one hour" description="From submission to ready, approval wait included." testId="share-total">
              <ShareGauge id="share-total" title="Share of orders ready within one hour of submission" {...f.withinHour} />
            </Card>
            <Card title="Within one hour of approval" description="Approval wait left out: from the moment policy or an approver approved it." testId="share-ex-approval">
              <ShareGauge id="share-ex-approval" title="Share of orders ready within one hour of approval" {...f.withinHourExcludingApproval} />
            </Card>
            <Card title="Orders in this range">
              <dl className="grid grid-cols-2 gap-x-4 gap-y-3 text-sm" data-testid="order-counts">
                {[
                  ["Submitted", f.orders.submitted],
                  ["Delivered", f.orders.delivered],
                  ["In progress", f.orders.inProgress],
                  ["Waiting for approval", f.orders.waitingForApproval],
                  ["Failed", f.orders.failed],
                  ["Rejected or cancelled", f.orders.rejectedOrCancelled],
                ].map(([label, n]) => (
                  <div key={label}>
                    <dt className="text-slate-500">{label}</dt>
                    <dd className="text-lg font-semibold text-slate-900">{n}</dd>
                  </div>
                ))}
              </dl>
              <p className="mt-3 text-xs text-slate-500">
                Missed: delivered after the hour, or the hour passed without delivery. Open: still within its hour ({f.withinHour.open}). Rejected and cancelled orders do not count.
              </p>
            </Card>
          </div>

          <Card title="Where the time goes" description="Per delivered order: waiting for an approver, waiting for a worker, and the pipeline itself.">
            <Wide><RangeBarChart id="split" title="Delivery time split into approval, queue and pipeline (p50 and p95)" desc={splitRows.map((r) => `${r.label}: p50 ${shortDuration(r.p50)}, p95 ${shortDuration(r.p95)}`).join(". ")} rows={splitRows} hourMarker /></Wide>
            <AsTable caption="Delivery time split" head={["Part", "Orders", "p50", "p95"]} rows={splitRows.map((r) => [r.label, r.count, shortDuration(r.p50), shortDuration(r.p95)])} />
          </Card>

          <Card title="Delivery time per image" description="Submission to ready, for delivered orders." testId="chart-images">
            {imageRows.length ? (
              <>
                <Wide><RangeBarChart id="per-image" title="Delivery time per image (p50 and p95)" desc={imageRows.map((r) => `${r.label}: p50 ${shortDuration(r.p50)}, p95 ${shortDuration(r.p95)}`).join(". ")} rows={imageRows} hourMarker /></Wide>
                <AsTable caption="Delivery time per image" head={["Image", "Delivered", "p50", "p95", "Within 1 h"]} rows={f.perImage.map((i) => [i.name, i.delivery.count, shortDuration(i.delivery.p50), shortDuration(i.delivery.p95), percent(i.withinHour.share)])} />
              </>
            ) : <p className="text-sm text-slate-500">No order in this range was delivered yet.</p>}
          </Card>

          <div className="space-y-6">
            <Card title="Time per pipeline step" description="How long each step took (successful runs)." testId="chart-steps">
              {stepRows.length ? (
                <>
                  <Wide><RangeBarChart id="per-step" title="Time per pipeline step (p50 and p95)" desc={stepRows.map((r) => `${r.label}: p50 ${shortDuration(r.p50)}, p95 ${shortDuration(r.p95)}`).join(". ")} rows={stepRows} /></Wide>
                  <AsTable caption="Time per pipeline step" head={["Step", "Runs", "p50", "p95"]} rows={stepRows.map((r) => [r.label, r.count, shortDuration(r.p50), shortDuration(r.p95)])} />
                </>
              ) : <p className="text-sm text-slate-500">No step has finished in this range.</p>}
            </Card>
            <Card title="Estimated and actual time per step" description="What the portal told customers to expect when the step started (the median of that step's last 20 successful runs for the image and host kind), against what it took." testId="chart-estimates">
              {estimateRows.length ? (
                <>
                  <Wide><EstimateVsActualChart id="estimates" title="Estimated against actual time per step (medians)" desc={estimateRows.map((r) => `${r.label}: estimated ${shortDuration(r.estimate)}, took ${shortDuration(r.actual)}`).join(". ")} rows={estimateRows} /></Wide>
                  <AsTable caption="Estimated and actual time per step" head={["Step", "Runs with an estimate", "Estimated (median)", "Actual (median)", "Mean error"]} rows={f.perStep.map((s) => [s.label, s.estimate.count, shortDuration(s.estimate.p50), shortDuration(s.estimate.actualP50), shortDuration(s.estimate.meanAbsErrorMs)])} />
                </>
              ) : <p className="text-sm text-slate-500">No step has finished in this range.</p>}
            </Card>
          </div>

          {f.slowest.length ? (
            <Card title="Slowest deliveries" description="The ten orders that took longest from submission to ready.">
              <div className="overflow-x-auto">
                <table className="table" aria-label="Slowest deliveries">
                  <TableHead columns={["Order", "Image", "Total", "Approval", "Queue", "Pipeline"]} />
                  <tbody>
                    {f.slowest.map((s) => (
                      <tr key={s.id}>
                        <td><Link prefetch={false} href={`/orders/${s.id}`} className="font-mono text-sky-700 hover:underline">{s.name}</Link></td>
                        <td>{s.image}</td>
                        <td className={s.totalMs > 3_600_000 ? "font-semibold text-rose-700" : "font-medium"}>{shortDuration(s.totalMs)}</td>
                        <td>{shortDuration(s.approvalMs)}</td>
                        <td>{shortDuration(s.queueMs)}</td>
                        <td>{shortDuration(s.pipelineMs)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Card>
          ) : null}
          <p className="text-xs text-slate-500">
            The same figures as JSON: <code>GET /api/v1/delivery?range={range.label === "custom" ? "…" : range.label}</code>. Percentiles interpolate between runs (p50: half took at most this long).
          </p>
        </div>
      )}
    </>
  );
}
