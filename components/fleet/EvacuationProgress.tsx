import type { EvacuationView } from "@/lib/fleet/queries";
import { StatusBadge } from "../StatusBadge";
import { formatDateTime, formatDuration, formatMemory } from "../format";
import type { StreamMode } from "../orders/useOrderStream";

const modeWords = { live: "live migration", cold: "cold move" } as const;

function ms(n: number | null): string {
  return n === null ? "—" : formatDuration(n) || "0 ms";
}

/**
 * A batch of moves (host evacuation or rebalance run): how far it is, each environment's move
 * with its target, mode, live progress, measured downtime, or why it did not move. One card per
 * move, so it reads on a phone too.
 */
export function EvacuationProgress({ view, mode }: { view: EvacuationView; mode: StreamMode }) {
  const { counts } = view;
  const running = view.status === "running";
  return (
    <div className="space-y-3" data-testid="evacuation" data-status={view.status}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <StatusBadge status={view.status} testId="evacuation-status" />
        <span data-testid="evacuation-counts">
          {counts.moved} of {counts.total} moved
          {counts.moving ? ` · ${counts.moving} moving` : ""}
          {counts.pending ? ` · ${counts.pending} waiting` : ""}
          {counts.failed ? ` · ${counts.failed} not moved` : ""}
        </span>
        <span className="text-xs text-slate-500">
          {view.parallel} at a time · started {formatDateTime(view.createdAt)}
          {view.requestedBy ? ` by ${view.requestedBy}` : ""}
          {running ? (mode === "live" ? " · live" : mode === "polling" ? " · updating every 2 s" : "") : ""}
        </span>
      </div>
      {view.outcome ? (
        <p role="status" data-testid="evacuation-outcome" className={`text-sm font-medium ${view.status === "completed" ? "text-emerald-800" : "text-amber-800"}`}>
          {view.outcome}
        </p>
      ) : null}
      {view.moves.length === 0 ? <p className="text-sm text-slate-600">Nothing was on the host: there was nothing to move.</p> : null}
      <ul className="divide-y divide-slate-100 rounded-md border border-slate-200" aria-label="Moves">
        {view.moves.map((m) => (
          <li key={m.id} className="space-y-1 p-3 text-sm" data-testid="evacuation-move" data-status={m.status} data-environment={m.environment.hostname}>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p className="min-w-0 font-medium wrap-anywhere text-slate-900">
                <a href={`/orders/${m.environment.orderId}`} className="text-sky-700 hover:underline">{m.environment.hostname}</a>{" "}
                <span className="font-normal text-slate-600">
                  {m.from.name} → {m.to?.name ?? "?"}
                </span>
              </p>
              <StatusBadge status={m.status} testId="move-status" />
            </div>
            <p className="text-xs text-slate-500">
              {formatMemory(m.environment.memoryMb)}, {m.environment.vcpus} vCPU{m.environment.vcpus === 1 ? "" : "s"}
              {m.mode ? ` · ${modeWords[m.mode]}` : ""}
            </p>
            {m.status === "moving" ? (
              <div>
                <div className="h-2 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden>
                  <div className="h-full rounded-full bg-sky-500 transition-all" style={{ width: `${Math.max(2, m.progress ?? 0)}%` }} />
                </div>
                <p className="mt-1 text-xs wrap-anywhere text-slate-600" data-testid="move-note">
                  {m.progress ?? 0}% · {m.note ?? "starting"}
                </p>
              </div>
            ) : null}
            {m.status === "moved" ? (
              <p className="text-xs text-slate-700">
                Downtime <strong data-testid="move-downtime">{m.downtimeMs === null ? (m.mode === "cold" ? "none (it was stopped)" : "not reported by the host") : ms(m.downtimeMs)}</strong>
                {m.totalMs !== null ? <> · migration {ms(m.totalMs)}</> : null}
                {m.durationMs !== null ? <> · move {ms(m.durationMs)}</> : null}
              </p>
            ) : null}
            {m.reason ? (
              <p className={`text-xs wrap-anywhere ${m.status === "failed" ? "text-rose-700" : "text-slate-600"}`} data-testid="move-reason">
                {m.status === "failed" ? "Not moved: " : ""}
                {m.reason}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
