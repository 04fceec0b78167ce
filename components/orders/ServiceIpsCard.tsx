import Link from "next/link";
import type { ServiceIpView } from "@/lib/net/service-ips";
import { formatDateTime } from "../format";

type FormAction = (form: FormData) => Promise<void>;

/** Where a service IP stands, in words: answering, on its way, or its last change failed. */
export function serviceIpState(sip: ServiceIpView, here?: string): string {
  const p = sip.pending;
  if (p) {
    const target = p.to?.name ? ` to ${p.to.name}` : p.from?.name ? ` from ${p.from.name}` : "";
    return `${p.kind === "move" ? "moving" : p.kind === "attach" ? "attaching" : "detaching"}${target} (${p.status})`;
  }
  if (!sip.environment) return "not attached";
  return sip.environment.id === here ? `answers here since ${sip.attachedAt ? formatDateTime(sip.attachedAt) : "—"}` : `points at ${sip.environment.name}`;
}

/** The last move's downtime as the host saw it, when there was one. */
export function lastMoveText(sip: ServiceIpView): string | null {
  const m = sip.lastMove;
  if (!m || m.status === "queued" || m.status === "running") return null;
  if (m.status === "failed") return `last ${m.kind} failed: ${m.error ?? "see the environment's actions"}`;
  if (m.kind === "move") return `moved from ${m.from?.name ?? "?"} to ${m.to?.name ?? "?"} in ${m.totalMs ?? "?"} ms${m.downtimeMs !== null ? `, downtime ${m.downtimeMs} ms` : " (downtime not measured)"}`;
  return `${m.kind === "attach" ? "attached" : "detached"} in ${m.totalMs ?? "?"} ms`;
}

/**
 * The order page's service IPs (server-rendered, forms that work without JavaScript): those
 * pointing at this environment or on their way to it, a detach button each, and a form that
 * points one of the group's service IPs on the environment's networks here (moving it when it
 * points elsewhere).
 */
export function ServiceIpsCard({
  env, serviceIps, choices, canManage, notice, error, attach, detach,
}: {
  env: { id: string; hostname: string; state: string; orderId: string };
  serviceIps: ServiceIpView[];
  choices: ServiceIpView[];
  canManage: boolean;
  notice?: string;
  error?: string;
  attach: FormAction;
  detach: FormAction;
}) {
  const back = `/orders/${env.orderId}`;
  const offered = choices.filter((c) => !serviceIps.some((s) => s.id === c.id));
  return (
    <section id="service-ips" className="card" aria-labelledby="service-ips-heading" data-testid="service-ips">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="service-ips-heading" className="text-base">Service IPs</h2>
        <Link prefetch={false} href="/service-ips" className="text-sm text-sky-800 hover:underline">All service IPs</Link>
      </div>
      <div className="space-y-4 px-5 py-4 text-sm">
        {notice ? <p role="status" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-emerald-900">{notice}</p> : null}
        {error ? <p role="alert" className="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-rose-800">{error}</p> : null}
        {serviceIps.length ? (
          <ul className="divide-y divide-slate-100" aria-label="Service IPs of this environment">
            {serviceIps.map((s) => (
              <li key={s.id} className="flex flex-wrap items-start justify-between gap-2 py-2" data-testid="service-ip">
                <div className="min-w-0">
                  <span className="font-medium text-slate-900">{s.name}</span> <code className="font-mono">{s.ip}</code>
                  <span className="text-slate-500"> on {s.network.name}</span>
                  <span className="block text-slate-600">{serviceIpState(s, env.id)}</span>
                  {lastMoveText(s) ? <span className="block text-xs text-slate-500">{lastMoveText(s)}</span> : null}
                </div>
                {canManage && s.environment?.id === env.id && !s.pending ? (
                  <form action={detach}>
                    <input type="hidden" name="id" value={s.id} />
                    <input type="hidden" name="back" value={back} />
                    <button type="submit" className="btn btn-secondary">Detach</button>
                  </form>
                ) : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-500">No service IP points at {env.hostname}.</p>
        )}
        {canManage ? (
          env.state !== "running" ? (
            <p className="text-slate-500">Start the environment to attach a service IP: it goes onto a running guest.</p>
          ) : offered.length ? (
            <form action={attach} className="flex flex-wrap items-end gap-2">
              <input type="hidden" name="environment" value={env.id} />
              <input type="hidden" name="back" value={back} />
              <div className="min-w-0 flex-1">
                <label htmlFor="attach-service-ip" className="field-label">Attach a service IP of the group</label>
                <select id="attach-service-ip" name="id" className="field-input">
                  {offered.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name} {c.ip} — {c.environment ? `moves it here from ${c.environment.name}` : "not attached"}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit" className="btn btn-primary w-full sm:w-auto">Attach</button>
            </form>
          ) : (
            <p className="text-slate-500">
              The group has no other service IP on this environment&apos;s networks. <Link prefetch={false} href="/service-ips" className="text-sky-800 hover:underline">Reserve one</Link>.
            </p>
          )
        ) : null}
      </div>
    </section>
  );
}
