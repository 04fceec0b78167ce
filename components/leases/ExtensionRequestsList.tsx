import Link from "next/link";
import { formatDateTime } from "../format";
import { ExtensionDecision } from "./LeasePanel";

export type PendingExtension = {
  id: string; orderId: string; name: string; requestedBy: string; days: number; reason: string | null; policy: string; expiresAt: string; createdAt: string;
};

/** Lease extensions waiting for the approver, with the rule that held them and the requester's reason. */
export function ExtensionRequestsList({ requests }: { requests: PendingExtension[] }) {
  return (
    <section aria-labelledby="extensions-heading" className="mt-8">
      <h2 id="extensions-heading" className="mb-3">Lease extensions</h2>
      {requests.length === 0 ? (
        <div className="card p-6 text-center text-sm text-slate-600" data-testid="extensions-empty">No lease extension is waiting for a decision.</div>
      ) : (
        <ul className="space-y-3" aria-label="Lease extensions waiting for approval">
          {requests.map((r) => (
            <li key={r.id} className="card grid grid-cols-1 gap-4 p-5 lg:grid-cols-3" data-testid="extension-item">
              <div className="text-sm lg:col-span-2">
                <p>
                  <Link prefetch={false} href={`/orders/${r.orderId}`} className="font-mono font-semibold text-sky-700 hover:underline">{r.name}</Link>{" "}
                  <span className="text-slate-600">+{r.days} days, asked by {r.requestedBy} on {formatDateTime(r.createdAt)}</span>
                </p>
                <p className="mt-1 text-slate-600">Lease now ends {formatDateTime(r.expiresAt)}.</p>
                <p className="mt-1 text-amber-800">{r.policy}</p>
                {r.reason ? <p className="mt-1 text-slate-800">Reason: {r.reason}</p> : null}
              </div>
              <div className="lg:border-l lg:border-slate-100 lg:pl-5">
                <ExtensionDecision requestId={r.id} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
