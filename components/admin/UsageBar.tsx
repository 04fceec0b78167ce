/** How much of a total is used, as "used / total (pct%)" over a bar that turns amber at 70% and red at 90%. */
export function UsageBar({ used, total, unit = "" }: { used: number; total: number; unit?: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  const bar = pct >= 90 ? "bg-rose-500" : pct >= 70 ? "bg-amber-500" : "bg-emerald-500";
  return (
    <div className="min-w-32">
      <div className="text-xs text-slate-600">
        {used}{unit} / {total}{unit} <span className="text-slate-400">({pct}%)</span>
      </div>
      <div className="mt-1 h-1.5 rounded-full bg-slate-100" role="presentation">
        <div className={`h-1.5 rounded-full ${bar}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}
