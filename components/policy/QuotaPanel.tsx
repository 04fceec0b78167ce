import { amount, quotaLines, refusals, type Amounts, type QuotaLine, type QuotaResource } from "@/lib/policy/quota-math";

export type QuotaScope = { title: string; where: string; lines: QuotaLine[] };

const labels: Record<QuotaResource, string> = {
  environments: "Environments",
  vcpus: "vCPUs",
  memoryMb: "Memory (GiB)",
  diskGb: "Disk (GB)",
  licensedCores: "Licensed cores",
};

const show = (r: QuotaResource, n: number) => (r === "memoryMb" ? String(Math.round((n / 1024) * 100) / 100) : String(n));

/**
 * Remaining quota of the group and of the user, and what the order being filled in would
 * use of it; resources over quota are marked with the same words the portal refuses with.
 */
export function QuotaPanel({ scopes, need }: { scopes: QuotaScope[]; need: Amounts | null }) {
  return (
    <section aria-labelledby="quota-heading" className="space-y-4" data-testid="quota-panel">
      <h2 id="quota-heading" className="text-base">Your quota</h2>
      {scopes.map((s) => {
        const limited = s.lines.filter((l) => l.limit !== null);
        const withNeed = need
          ? quotaLines(
              Object.fromEntries(s.lines.map((l) => [l.resource, l.limit])) as Record<QuotaResource, number | null>,
              Object.fromEntries(s.lines.map((l) => [l.resource, l.used])) as Amounts,
              need,
            )
          : s.lines;
        const over = need ? refusals(withNeed, s.where) : [];
        return (
          <div key={s.title} data-testid="quota-scope" data-scope={s.title}>
            <h3 className="text-sm font-medium text-slate-700">{s.title}</h3>
            {limited.length === 0 ? (
              <p className="text-sm text-slate-500">No limits.</p>
            ) : (
              <table className="mt-1 w-full text-sm" aria-label={`Quota: ${s.title}`}>
                <thead>
                  <tr className="text-left text-xs text-slate-500">
                    <th scope="col" className="font-normal">Resource</th>
                    <th scope="col" className="font-normal">Left</th>
                    <th scope="col" className="font-normal">This order</th>
                  </tr>
                </thead>
                <tbody>
                  {withNeed
                    .filter((l) => l.limit !== null)
                    .map((l) => (
                      <tr key={l.resource} data-testid={`quota-${l.resource}`} className={l.exceeded ? "text-rose-700" : "text-slate-800"}>
                        <td>{labels[l.resource]}</td>
                        <td>
                          <span className="font-medium">{show(l.resource, l.left ?? 0)}</span>
                          <span className="text-slate-500"> of {show(l.resource, l.limit ?? 0)}</span>
                        </td>
                        <td>{need ? show(l.resource, l.need) : "—"}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )}
            {over.length ? (
              <ul role="alert" className="mt-2 space-y-1 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-xs text-rose-800" data-testid="quota-over">
                {over.map((o) => (
                  <li key={o}>Over quota: {o}</li>
                ))}
              </ul>
            ) : null}
          </div>
        );
      })}
      {need ? (
        <p className="text-xs text-slate-500">
          This order uses {amount("vcpus", need.vcpus)}, {amount("memoryMb", need.memoryMb)}, {amount("diskGb", need.diskGb)}
          {need.licensedCores ? `, ${amount("licensedCores", need.licensedCores)}` : ""}. Orders count until they are rejected, cancelled or retired.
        </p>
      ) : null}
    </section>
  );
}
