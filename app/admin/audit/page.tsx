import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { auditActions, searchAudit } from "@/lib/audit/queries";
import { requireUser } from "@/lib/auth/require-user";
import { UserError } from "@/lib/errors";
import { isUuid } from "@/lib/validation/ids";
import { auditQuery } from "@/lib/audit/input";
import { fieldErrors, UNSTORABLE_MESSAGE, unstorablePaths } from "@/lib/validation/fields";
import { PageHeader } from "@/components/PageHeader";
import { formatDateTime } from "@/components/format";
import { TableHead } from "@/components/TableHead";
import { stackedOnPhones } from "@/components/admin/stacked";
import { DateTimeField } from "@/components/admin/DateTimeField";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const filterNames = ["actor", "action", "target", "q", "from", "to"] as const;

/** Events a page, unless the address asks for another number (perPage, as the API takes it). */
const EVENTS_PER_PAGE = 25;

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
  // Ids in the details (an order's, a host's) are shortened like the target's.
  const cell = (v: string) => (isUuid(v) ? <ShortId id={v} /> : v);
  if (!lines.length) return null;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-2">
      {lines.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-slate-500">{k}</dt>
          <dd className="text-slate-800 [overflow-wrap:anywhere]">{cell(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A UUID in eight characters, the whole of it on hover: never wrapped over lines. */
function ShortId({ id }: { id: string }) {
  return isUuid(id) ? <code title={id} className="whitespace-nowrap text-slate-500">{id.slice(0, 8)}…</code> : <code className="break-all text-slate-500">{id}</code>;
}

/** A target by the name people know it by, its id on hover; orders link to their page. */
function Target({ type, id, name }: { type: string; id: string; name: string | null }) {
  if (!name) return <ShortId id={id} />;
  if (type === "order") return <Link prefetch={false} href={`/orders/${id}`} title={id} className="text-sky-700 [overflow-wrap:anywhere] hover:underline sm:whitespace-nowrap">{name}</Link>;
  return <span title={id} className="text-slate-800 [overflow-wrap:anywhere] sm:whitespace-nowrap">{name}</span>;
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
  // The filters understood still apply; the others are left out (and shown with their message).
  const understood = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in fields)));
  const asked = parsed.success ? parsed.data : (auditQuery.safeParse(understood).data ?? auditQuery.parse({}));
  const f = "perPage" in understood ? asked : { ...asked, perPage: EVENTS_PER_PAGE };
  const db = await getDb();
  // A cursor that is not one of ours (an edited link) falls back to the page number.
  const search = (q: typeof f) => searchAudit(db, q).catch((err) => {
    if (err instanceof UserError && err.status === 422 && q.cursor) return searchAudit(db, { ...q, cursor: undefined });
    throw err;
  });
  const [result, actions] = await Promise.all([search(f), auditActions(db)]);

  const given = Object.fromEntries(filterNames.filter((k) => typeof raw[k] === "string" && raw[k]).map((k) => [k, raw[k] as string]));
  const paging: Record<string, string> = typeof raw.perPage === "string" && parsed.success ? { perPage: String(f.perPage) } : {};
  const applied = Object.fromEntries(Object.entries(given).filter(([k]) => !(k in fields)));
  const query = (extra: Record<string, string | number>) => new URLSearchParams({ ...applied, ...paging, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) }).toString();
  const first = (result.page - 1) * result.perPage + 1;
  const last = first + result.events.length - 1;
  const filtered = Object.keys(given).length > 0;

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change and privileged action: who, what, when, from which address and browser, and the state before and after. Entries cannot be changed or deleted."
        actions={
          <a href={`/api/v1/audit?${query({ format: "csv" })}`} className="btn btn-secondary" data-testid="audit-export" download>
            Export CSV{Object.keys(applied).length ? " (filtered)" : ""}
          </a>
        }
      />

      {/* Keyed by the filter: after "Clear filters" (a navigation without reload) the fields show the new filter, not what was typed. */}
      <form key={JSON.stringify(given)} method="get" action="/admin/audit" className="card mb-6 grid gap-4 p-5 sm:grid-cols-2 lg:grid-cols-4" aria-label="Filter the audit log">
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
        <DateTimeField name="from" label="From" value={given.from} error={fields.from?.[0]} />
        <DateTimeField name="to" label="To" value={given.to} error={fields.to?.[0]} />
        <div className="flex flex-col gap-2 sm:flex-row sm:items-start sm:pt-6 lg:col-span-2">
          <button type="submit" className="btn btn-primary">Filter</button>
          {filtered ? <Link prefetch={false} href="/admin/audit" className="btn btn-secondary">Clear filters</Link> : null}
        </div>
      </form>
      {Object.keys(fields).length > 0 ? <p role="alert" className="mb-4 text-sm text-rose-700">Some filters were not understood and are left out: {Object.values(fields).flat().join("; ")}</p> : null}

      <div className="card">
        <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2 text-sm text-slate-600" data-testid="audit-count">
          {result.total === 0 ? "No entries match." : `Entries ${first}–${last} of ${result.totalCapped ? `more than ${result.total.toLocaleString("en")}` : result.total}, newest first`}
        </div>
        {result.events.length ? (
          <div className="overflow-x-auto">
          <table className={`table ${stackedOnPhones}`} aria-label="Audit entries">
            <TableHead columns={["When", "Who", "Action", "Target", "From", "Details"]} />
            <tbody>
              {result.events.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td data-label="When" className="text-xs whitespace-nowrap">{when(e.at)}</td>
                  <td data-label="Who" className="text-xs [overflow-wrap:anywhere] sm:whitespace-nowrap">
                    {e.actorEmail ? <span title={e.actorId ?? undefined}>{e.actorEmail}</span> : e.actorId ? <ShortId id={e.actorId} /> : <span className="text-slate-500">system</span>}
                  </td>
                  <td data-label="Action"><code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs whitespace-nowrap text-slate-800">{e.action}</code></td>
                  <td data-label="Target" className="text-xs">
                    <span className="text-slate-500">{e.targetType}</span>
                    {e.targetId ? <span className="block"><Target type={e.targetType} id={e.targetId} name={e.targetName} /></span> : null}
                  </td>
                  <td data-label="From" className="text-xs">
                    <span className="font-mono">{e.sourceIp ?? "—"}</span>
                    {e.userAgent ? <span className="block max-w-48 truncate text-slate-500" title={e.userAgent}>{e.userAgent}</span> : null}
                  </td>
                  <td data-label="Details" className="max-w-md text-xs">
                    <Details before={e.before} after={e.after} data={e.data} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        ) : (
          <p className="px-4 py-6 text-sm text-slate-500">{filtered ? "Nothing matches these filters. Widen the time range or clear a filter." : "Nothing has been recorded yet."}</p>
        )}
        {result.page > 1 || result.hasMore ? (
          <nav aria-label="Pages" className="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-sm">
            {result.page > 1 ? <Link prefetch={false} href={`/admin/audit?${query({ page: result.page - 1 })}`} className="text-sky-700 hover:underline">← Newer</Link> : <span />}
            <span className="text-slate-500">Page {result.page}{result.totalCapped ? "" : ` of ${Math.ceil(result.total / result.perPage)}`}</span>
            {/* The cursor makes the next page as fast as the first; the page number only counts. */}
            {result.nextCursor ? <Link prefetch={false} href={`/admin/audit?${query({ page: result.page + 1, cursor: result.nextCursor })}`} className="text-sky-700 hover:underline">Older →</Link> : <span />}
          </nav>
        ) : null}
      </div>
    </>
  );
}
