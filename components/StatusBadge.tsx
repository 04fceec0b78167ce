import { statusLabel } from "./format";

const tones: Record<string, string> = {
  // orders
  submitted: "bg-slate-100 text-slate-700 ring-slate-300",
  pending_approval: "bg-amber-50 text-amber-800 ring-amber-300",
  approved: "bg-sky-50 text-sky-800 ring-sky-300",
  queued: "bg-sky-50 text-sky-800 ring-sky-300",
  provisioning: "bg-indigo-50 text-indigo-800 ring-indigo-300",
  ready: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  failed: "bg-rose-50 text-rose-800 ring-rose-300",
  rejected: "bg-rose-50 text-rose-800 ring-rose-300",
  cancelled: "bg-slate-100 text-slate-600 ring-slate-300",
  expiring: "bg-amber-50 text-amber-900 ring-amber-400",
  retiring: "bg-orange-50 text-orange-800 ring-orange-300",
  retired: "bg-slate-100 text-slate-600 ring-slate-300",
  // steps and runs
  pending: "bg-slate-50 text-slate-600 ring-slate-200",
  running: "bg-indigo-50 text-indigo-800 ring-indigo-300",
  succeeded: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  skipped: "bg-slate-50 text-slate-500 ring-slate-200",
  // moves of an evacuation or rebalance, and the batch
  moving: "bg-indigo-50 text-indigo-800 ring-indigo-300",
  moved: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  completed: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  incomplete: "bg-amber-50 text-amber-900 ring-amber-400",
  // hosts
  active: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  draining: "bg-amber-50 text-amber-800 ring-amber-300",
  offline: "bg-slate-100 text-slate-600 ring-slate-300",
};

/** A pill coloured by status; the text is the status in words. */
export function StatusBadge({ status, className = "", testId = "status-badge" }: { status: string; className?: string; testId?: string }) {
  const tone = tones[status] ?? "bg-slate-100 text-slate-700 ring-slate-300";
  const live = status === "provisioning" || status === "running" || status === "retiring" || status === "moving";
  return (
    <span
      data-testid={testId}
      data-status={status}
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${tone} ${className}`}
    >
      {live ? <span aria-hidden className="size-1.5 animate-pulse rounded-full bg-current" /> : null}
      {statusLabel(status)}
    </span>
  );
}
