"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import type { EnvironmentCampaign } from "@/lib/campaigns/queries";
import { api } from "../api-client";
import { formatDateTime, statusLabel } from "../format";

/**
 * Patch campaigns that will update (or are updating) this environment: when, to which version,
 * where it stands; its owner may postpone it once, by up to the days the campaign and the lease allow.
 */
export function CampaignNotices({ environmentId, campaigns, canPostpone }: { environmentId: string; campaigns: EnvironmentCampaign[]; canPostpone: boolean }) {
  if (campaigns.length === 0) return null;
  return (
    <section className="card" aria-labelledby="campaign-heading" data-testid="campaign-notices">
      <div className="border-b border-slate-100 px-5 py-3">
        <h2 id="campaign-heading" className="text-base">Scheduled update</h2>
      </div>
      <ul className="divide-y divide-slate-100">
        {campaigns.map((c) => (
          <CampaignNotice key={c.id} environmentId={environmentId} campaign={c} canPostpone={canPostpone} />
        ))}
      </ul>
    </section>
  );
}

function CampaignNotice({ environmentId, campaign: c, canPostpone }: { environmentId: string; campaign: EnvironmentCampaign; canPostpone: boolean }) {
  const router = useRouter();
  const [days, setDays] = useState(String(c.postponeDays));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function postpone() {
    setBusy(true);
    setMessage(null);
    const res = await api<{ postponedUntil: string; outOfWindow: boolean }>(`/api/v1/campaigns/${c.id}/postpone`, { method: "POST", body: { environment: environmentId, days: Number(days) } });
    setBusy(false);
    if (!res.ok) return setMessage({ ok: false, text: res.error });
    setMessage({
      ok: true,
      text: res.data.outOfWindow ? "Postponed past the campaign's window: this campaign will not update it." : `Postponed until ${formatDateTime(res.data.postponedUntil)}.`,
    });
    router.refresh();
  }

  return (
    <li className="space-y-2 px-5 py-4 text-sm" data-testid="campaign-notice" data-status={c.target.status}>
      <p className="text-slate-800">
        Patch campaign <span className="font-medium">{c.name}</span> updates it to version {c.version} of its image (a reinstall, backed up first) between{" "}
        {formatDateTime(c.window.start)} and {formatDateTime(c.window.end)}; its name, addresses, MACs and /data stay.
      </p>
      <p className="text-slate-600">
        Here: <span className="font-medium">{statusLabel(c.target.status)}</span>
        {c.target.wave ? ` in wave ${c.target.wave}` : ""}
        {c.target.postponedUntil ? ` until ${formatDateTime(c.target.postponedUntil)}` : ""}
        {c.target.note && c.target.status !== "postponed" ? ` (${c.target.note})` : ""}.
      </p>
      {canPostpone && c.postponeDays > 0 ? (
        <div className="flex flex-col gap-2 sm:flex-row sm:items-end">
          <div>
            <label htmlFor={`postpone-${c.id}`} className="field-label">Postpone by (days, once)</label>
            <select id={`postpone-${c.id}`} className="field-input" value={days} onChange={(e) => setDays(e.target.value)} disabled={busy}>
              {Array.from({ length: c.postponeDays }, (_, i) => String(i + 1)).map((d) => (
                <option key={d} value={d}>{d}</option>
              ))}
            </select>
          </div>
          <button type="button" className="btn btn-secondary w-full sm:w-auto" disabled={busy} onClick={postpone}>
            {busy ? "Postponing…" : "Postpone"}
          </button>
        </div>
      ) : null}
      {message ? <p role={message.ok ? "status" : "alert"} className={message.ok ? "text-emerald-700" : "text-rose-700"}>{message.text}</p> : null}
    </li>
  );
}
