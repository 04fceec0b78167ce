"use client";

import Link from "next/link";
import { useState } from "react";
import type { CampaignView } from "@/lib/campaigns/queries";
import { api } from "../api-client";
import { StatusBadge } from "../StatusBadge";
import { TableHead } from "../TableHead";
import { formatDateTime, formatDuration } from "../format";
import { useLiveSnapshot } from "../useLiveSnapshot";
import { LiveBreadcrumb, LiveHeading } from "../LiveHeading";

const isFinal = (v: CampaignView) => v.final;

const threshold = (t: CampaignView["failureThreshold"]) =>
  "count" in t ? `more than ${t.count} environment${t.count === 1 ? "" : "s"} of a wave fail` : `more than ${t.percent}% of a wave fail`;

/**
 * A patch campaign as it runs: its waves and each environment's outcome and timings, live
 * (server-sent events, else polling), with pause, resume and, once it stopped, the rollback of
 * the failed environments from their backups.
 */
export function CampaignLive({ initial }: { initial: CampaignView }) {
  const { view, mode, refresh } = useLiveSnapshot(initial, { url: `/api/v1/campaigns/${initial.id}`, eventsUrl: `/api/v1/campaigns/${initial.id}/events`, isFinal });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function act(what: "pause" | "resume" | "rollback", done: string) {
    setBusy(true);
    setMessage(null);
    const res = await api(`/api/v1/campaigns/${view.id}/${what}`, { method: "POST" });
    setBusy(false);
    setMessage(res.ok ? { ok: true, text: done } : { ok: false, text: res.error });
    await refresh();
  }

  return (
    <div className="space-y-6">
      <LiveBreadcrumb href="/admin/campaigns" label="Campaigns" name={view.name} />

      <div className="card p-5">
        <LiveHeading
          name={view.name}
          status={view.status}
          testIds={{ name: "campaign-name", status: "campaign-status" }}
          mode={mode}
          actions={
            <div className="flex w-full flex-col gap-2 sm:w-auto sm:flex-row">
              {view.status === "scheduled" || view.status === "running" ? (
                <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => act("pause", "Paused: no new wave starts; what runs now finishes.")}>Pause</button>
              ) : null}
              {view.status === "paused" ? (
                <button type="button" className="btn btn-primary" disabled={busy} onClick={() => act("resume", "Resumed.")}>Resume</button>
              ) : null}
              {view.canRollback ? (
                <button type="button" className="btn btn-danger" disabled={busy} onClick={() => act("rollback", "Rolling the failed environments back from their backups.")}>
                  Roll back the failed ones
                </button>
              ) : null}
            </div>
          }
        >
          {view.image.name} to version {view.version.number}: {view.version.changelog}
        </LiveHeading>
        {view.reason ? (
          <p role="status" data-testid="campaign-reason" className={`mt-4 rounded-md border-l-4 px-4 py-3 text-sm font-medium ${view.status === "stopped" ? "border-rose-300 bg-rose-50 text-rose-900" : "border-sky-300 bg-sky-50 text-sky-900"}`}>
            {view.reason}
          </p>
        ) : null}
        {message ? <p role={message.ok ? "status" : "alert"} className={`mt-3 text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p> : null}
        <dl className="mt-4 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
          <div><dt className="text-slate-500">Maintenance window</dt><dd className="text-slate-800">{formatDateTime(view.window.start)} to {formatDateTime(view.window.end)}</dd></div>
          <div><dt className="text-slate-500">Waves</dt><dd className="text-slate-800">{view.waveSize} environment{view.waveSize === 1 ? "" : "s"} at a time; stops when {threshold(view.failureThreshold)}</dd></div>
          <div><dt className="text-slate-500">Check after each reinstall</dt><dd className="text-slate-800">{view.healthCheck === "ready-line" ? "the guest's ready line" : view.healthCheck}</dd></div>
          <div><dt className="text-slate-500">Owners may postpone</dt><dd className="text-slate-800">{view.postponeMaxDays ? `once, by up to ${view.postponeMaxDays} day${view.postponeMaxDays === 1 ? "" : "s"}` : "no"}</dd></div>
          <div><dt className="text-slate-500">Started by</dt><dd className="text-slate-800 wrap-anywhere">{view.createdBy}{view.group ? ` for ${view.group}` : ""}</dd></div>
        </dl>
      </div>

      {view.waves.length ? (
        <section className="card" aria-labelledby="waves-heading">
          <h2 id="waves-heading" className="border-b border-slate-100 px-5 py-3 text-base">Waves</h2>
          <div className="overflow-x-auto">
            <table className="table table-stack" aria-label="Waves">
              <TableHead columns={["Wave", "Size", "Done", "Failed", "Started", "Took"]} />
              <tbody>
                {view.waves.map((w) => (
                  <tr key={w.number} data-testid="wave-row" data-wave={w.number}>
                    <td className="font-medium text-slate-900">Wave {w.number}</td>
                    <td data-label="Size">{w.environments}</td>
                    <td data-label="Done">{w.done}</td>
                    <td data-label="Failed">{w.failed}{w.rolledBack ? ` (${w.rolledBack} rolled back)` : ""}</td>
                    <td data-label="Started" className="whitespace-nowrap">{formatDateTime(w.startedAt)}</td>
                    <td data-label="Took" className="whitespace-nowrap">{w.durationMs !== null ? formatDuration(w.durationMs) : "running"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}

      <section className="card" aria-labelledby="targets-heading">
        <h2 id="targets-heading" className="border-b border-slate-100 px-5 py-3 text-base">Environments ({view.targets.length})</h2>
        <div className="overflow-x-auto">
          <table className="table table-stack" aria-label="Environments">
            <TableHead columns={["Environment", "Wave", "Outcome", "Version", "Timings"]} />
            <tbody>
              {view.targets.map((t) => (
                <tr key={t.id} data-testid="target-row" data-status={t.status} data-name={t.name}>
                  <td className="min-w-0">
                    <Link prefetch={false} href={`/orders/${t.orderId}`} className="font-mono font-medium text-sky-700 hover:underline wrap-anywhere">{t.name}</Link>
                    <span className="block text-xs text-slate-500 wrap-anywhere">{t.owner}</span>
                  </td>
                  <td data-label="Wave">{t.wave ?? (t.plannedWave ? <span className="text-slate-500">{t.plannedWave} (planned)</span> : "—")}</td>
                  <td data-label="Outcome" className="min-w-0">
                    <StatusBadge status={t.status} testId="target-status" />
                    {t.error ? <span className="mt-1 block text-xs text-rose-700 wrap-anywhere">{t.error}</span> : t.note ? <span className="mt-1 block text-xs text-slate-500 wrap-anywhere">{t.note}</span> : null}
                    {t.postponedUntil ? <span className="mt-1 block text-xs text-amber-800">until {formatDateTime(t.postponedUntil)}</span> : null}
                  </td>
                  <td data-label="Version" className="whitespace-nowrap">
                    {t.fromVersion !== null && t.imageVersion !== null && t.fromVersion !== t.imageVersion ? `v${t.fromVersion} → v${t.imageVersion}` : t.imageVersion !== null ? `v${t.imageVersion}` : "—"}
                  </td>
                  <td data-label="Timings" className="text-xs text-slate-600">
                    {t.timings.totalMs !== null || t.timings.backupMs !== null ? (
                      <span className="block">
                        {[
                          t.timings.backupMs !== null ? `backup ${formatDuration(t.timings.backupMs)}` : null,
                          t.timings.reinstallMs !== null ? `reinstall ${formatDuration(t.timings.reinstallMs)}` : null,
                          t.timings.checkMs !== null ? `check ${formatDuration(t.timings.checkMs)}` : null,
                          t.timings.totalMs !== null ? `total ${formatDuration(t.timings.totalMs)}` : null,
                        ].filter(Boolean).join(" · ")}
                      </span>
                    ) : "—"}
                    {t.timings.rollbackMs !== null ? <span className="block">rollback {formatDuration(t.timings.rollbackMs)}</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
