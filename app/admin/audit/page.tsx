import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { auditActions, searchAudit } from "@/lib/audit/queries";
import { requireUser } from "@/lib/auth/require-user";
import { auditQuery } from "@/lib/audit/input";
import { fieldErrors, UNSTORABLE_MESSAGE, unstorablePaths } from "@/lib/validation/fields";
import { PageHeader } from "@/components/PageHeader";
import { formatDateTime } from "@/components/format";
import { TableHead } from "@/components/TableHead";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const filterNames = ["actor", "action", "target", "q", "from", "to"] as const;

const show = (v: unknown) => (v === null || v === undefined ? "none" : typeof v === "string" ? v : JSON.stringify(v));

/** What changed, one line per field: `status: pending_approval → queued`; else the event's data. */
function Details({ before, after, data }: { before: Record<string, unknown> | null; after: Record<string, unknown> | null; data: Record<string, unknown> }) {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  const lines = keys.length
    ? keys.map((k) => {
        const b = before?.[k];
        const a = after?.[k];
        const value = before && after && k in before ? (show(b) === show(a) ? show(a) : `${show(b)} → ${show(a)}`) : after && k in after ? show(a) : `${show(b)} → removed`;
        return [k, value] as const;
      })
    : Object.entries(data).map(([k, v]) => [k, show(v)] as const);
  if (!lines.length) return null;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-2">
      {lines.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-slate-500">{k}</dt>
          <dd className="text-slate-800 [overflow-wrap:anywhere]">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function when(iso: string): string {
  return `${formatDateTime(iso).replace(" UTC", "")}:${iso.slice(17, 19)} UTC`;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/audit");
  if (user.role !== "admin") forbidden();
  const sent = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  // A filter the database could not compare with (a NUL, say) is left out, like one not understood.
  const unstorable = new Set(unstorablePaths(sent));
  const raw = Object.fromEntries(Object.entries(sent).filter(([k]) => !unstorable.has(k)));
  const parsed = auditQuery.safeParse(raw);
  const fields: Record<string, string[]> = {
    ...(parsed.success ? {} : fieldErrors(parsed.error)),
    ...Object.fromEntries([...unstorable].map((k) => [k, [`${k}: ${UNSTORABLE_MESSAGE}`]])),
  };
  const f = parsed.success ? parsed.data : auditQuery.parse({});
  const db = await getDb();
  const [result, actions] = await Promise.all([searchAudit(db, f), auditActions(db)]);

  const given = Object.fromEntries(filterNames.filter((k) => typeof raw[k] === "string" && raw[k]).map((k) => [k, raw[k] as string]));
  const paging: Record<string, string> = typeof raw.perPage === "string" && parsed.success ? { perPage: String(f.perPage) } : {};
  const query = (extra: Record<string, string | number>) => new URLSearchParams({ ...given, ...paging, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) }).toString();
  const first = (result.page - 1) * result.perPage + 1;
  const last = first + result.events.length - 1;
  const filtered = Object.keys(given).length > 0;

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-slate-500">
        <Link prefetch={false} href="/admin" className="hover:text-slate-800 hover:underline">Admin</Link>
        <span aria-hidden className="mx-2">/</span>
        <span className="text-slate-700">Audit log</span>
      </nav>
      <PageHeader
        title="Audit log"
        description="Every change and privileged action: who, what, when, from which address and browser, and the state before and after. Entries cannot be changed or deleted."
        actions={
          <a href={`/api/v1/audit?${query({ format: "csv" })}`} className="btn btn-secondary" data-testid="audit-export" download>
            Export CSV{filtered ? " (filtered)" : ""}
          </a>
        }
      />

      <form method="get" action="/admin/audit" className="card mb-6 grid gap-4 p-5 sm:grid-cols-2 lg:grid-cols-4" aria-label="Filter the audit log">
        <label>
          <span className="field-label">Actor</span>
          <input name="actor" defaultValue={given.actor ?? ""} placeholder="e-mail, user id or system" className="field-input" />
        </label>
        <label>
          <span className="field-label">Action</span>
          <input name="action" list="audit-actions" defaultValue={given.action ?? ""} placeholder="order.approve, or order" className="field-input" />
          <datalist id="audit-actions">{actions.map((a) => <option key={a} value={a} />)}</datalist>
        </label>
        <label>
          <span className="field-label">Target</span>
          <input name="target" defaultValue={given.target ?? ""} placeholder="id or kind (order, host, user…)" className="field-input" />
        </label>
        <label>
          <span className="field-label">Text</span>
          <input name="q" type="search" defaultValue={given.q ?? ""} placeholder="anything: reason, IP, name…" className="field-input" />
        </label>
        <label>
          <span className="field-label">From (UTC)</span>
          <input name="from" type="datetime-local" defaultValue={given.from ?? ""} aria-invalid={fields.from ? true : undefined} className="field-input" />
          {fields.from ? <p className="field-error">{fields.from[0]}</p> : null}
        </label>
        <label>
          <span className="field-label">To (UTC)</span>
          <input name="to" type="datetime-local" defaultValue={given.to ?? ""} aria-invalid={fields.to ? true : undefined} className="field-input" />
          {fields.to ? <p className="field-error">{fields.to[0]}</p> : null}
        </label>
        <div className="flex items-end gap-2 lg:col-span-2">
          <button type="submit" className="btn btn-primary">Filter</button>
          {filtered ? <Link prefetch={false} href="/admin/audit" className="btn btn-secondary">Clear filters</Link> : null}
        </div>
      </form>
      {Object.keys(fields).length > 0 ? <p role="alert" className="mb-4 text-sm text-rose-700">Some filters were not understood and are left out: {Object.values(fields).flat().join("; ")}</p> : null}

      <div className="card overflow-x-auto">
        <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2 text-sm text-slate-600" data-testid="audit-count">
          {result.total === 0 ? "No entries match." : `Entries ${first}–${last} of ${result.total}, newest first`}
        </div>
        {result.events.length ? (
          <table className="table" aria-label="Audit entries">
            <TableHead columns={["When", "Who", "Action", "Target", "From", "Details"]} />
            <tbody>
              {result.events.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td className="text-xs whitespace-nowrap">{when(e.at)}</td>
                  <td className="text-xs">{e.actorEmail ?? (e.actorId ? <code>{e.actorId}</code> : <span className="text-slate-500">system</span>)}</td>
                  <td><code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-800">{e.action}</code></td>
                  <td className="text-xs">
                    {e.targetType}
                    {e.targetId ? (
                      e.targetType === "order" ? <Link prefetch={false} href={`/orders/${e.targetId}`} className="block font-mono text-sky-700 hover:underline">{e.targetId.slice(0, 8)}…</Link> : <code className="block break-all text-slate-500">{e.targetId}</code>
                    ) : null}
                  </td>
                  <td className="text-xs">
                    <span className="font-mono">{e.sourceIp ?? "—"}</span>
                    {e.userAgent ? <span className="block max-w-48 truncate text-slate-500" title={e.userAgent}>{e.userAgent}</span> : null}
                  </td>
                  <td className="max-w-md text-xs">
                    <Details before={e.before} after={e.after} data={e.data} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="px-4 py-6 text-sm text-slate-500">{filtered ? "Nothing matches these filters. Widen the time range or clear a filter." : "Nothing has been recorded yet."}</p>
        )}
        {result.total > result.perPage ? (
          <nav aria-label="Pages" className="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-sm">
            {result.page > 1 ? <Link prefetch={false} href={`/admin/audit?${query({ page: result.page - 1 })}`} className="text-sky-700 hover:underline">← Newer</Link> : <span />}
            <span className="text-slate-500">Page {result.page} of {Math.ceil(result.total / result.perPage)}</span>
            {result.hasMore ? <Link prefetch={false} href={`/admin/audit?${query({ page: result.page + 1 })}`} className="text-sky-700 hover:underline">Older →</Link> : <span />}
          </nav>
        ) : null}
      </div>
    </>
  );
}
