import { formatDateTime } from "@/components/format";

export type WorkerRow = {
  id: string;
  live: boolean;
  concurrency: number;
  jobsRunning: number;
  jobsDone: number;
  heartbeatAt: Date;
  hostsOwned: { id: string; name: string }[];
};

/**
 * Worker processes on the hosts page: live ones, and offline ones that still own hosts (their
 * hosts' orders wait for them). Stacked cards: fits a phone without a table.
 */
export function WorkersPanel({ workers }: { workers: WorkerRow[] }) {
  return (
    <section aria-labelledby="workers-heading" className="card h-fit p-5">
      <h2 id="workers-heading" className="mb-1 text-base">Workers ({workers.filter((w) => w.live).length} live)</h2>
      <p className="mb-3 text-xs text-slate-600">Hosts owned by a worker run their work on that worker only.</p>
      {workers.length === 0 ? <p className="text-sm text-slate-600">No worker has reported yet: orders wait in the queue until one starts.</p> : null}
      <ul className="space-y-3">
        {workers.map((w) => (
          <li key={w.id} className="rounded border border-slate-200 p-3 text-xs" aria-label={`Worker ${w.id}`} data-testid="worker-row">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span className="break-all font-mono text-sm">{w.id}</span>
              <span className={w.live ? "text-emerald-700" : "font-medium text-amber-700"} data-testid="worker-live">
                {w.live ? "live" : "offline"}
              </span>
            </div>
            <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
              <dt className="text-slate-500">Hosts owned</dt>
              <dd className="break-words">{w.hostsOwned.length ? w.hostsOwned.map((h) => h.name).join(", ") : "none (serves SSH and sim hosts)"}</dd>
              <dt className="text-slate-500">Jobs</dt>
              <dd>
                {w.jobsRunning} running of {w.concurrency}, {w.jobsDone} done
              </dd>
              <dt className="text-slate-500">Heartbeat</dt>
              <dd>{formatDateTime(w.heartbeatAt)}</dd>
            </dl>
          </li>
        ))}
      </ul>
    </section>
  );
}
