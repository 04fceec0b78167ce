"use client";

import { useCallback, useEffect, useState } from "react";
import type { BackupView, BackupWork } from "@/lib/backups/backups";
import { api } from "../api-client";
import { formatBytes, formatDateTime } from "../format";

type Listed = Omit<BackupView, "createdAt" | "finishedAt" | "verifiedAt"> & { createdAt: string; finishedAt: string | null; verifiedAt: string | null };
type Answer = { items: Listed[]; inProgress: BackupWork | null };

const doing: Record<BackupWork["action"], string> = { backup: "Backing up", restore: "Restoring", verify: "Verifying a backup" };

const sizeText = (bytes: number | null) => (bytes === null ? "" : formatBytes(bytes));

/** "verified: booted and read back at T", or why not (damaged, failed, no marker). */
function verdict(b: Listed): { text: string; tone: string } {
  if (b.status === "damaged") return { text: `damaged: never restored. ${b.note ?? ""}`.trim(), tone: "text-rose-800" };
  if (b.status === "failed") return { text: `failed: ${b.note ?? "see the worker's log"}`, tone: "text-rose-800" };
  if (b.status !== "succeeded") return { text: b.status === "queued" ? "queued" : "being written", tone: "text-sky-900" };
  if (b.verified) return { text: `verified: booted and read back at ${formatDateTime(b.verifiedAt)}`, tone: "text-emerald-800" };
  return { text: b.note ?? "not verified yet", tone: "text-amber-800" };
}

/**
 * Backups of a delivered environment (its customer and admins): back up now, the list with
 * size, checksum and whether each was proven, restore in place or verify again. `changed` is
 * the order's live view: every event on the order (an action's progress) reloads the list.
 */
export function BackupsPanel({ environmentId, changed }: { environmentId: string; changed: unknown }) {
  const [data, setData] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const res = await api<Answer>(`/api/v1/environments/${environmentId}/backups`);
    if (res.ok) setData(res.data);
  }, [environmentId]);

  useEffect(() => {
    void load();
  }, [load, changed]);

  async function act(path: string, body?: unknown) {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/environments/${environmentId}/${path}`, { method: "POST", body });
    if (!res.ok) setError(res.error);
    await load();
    setBusy(false);
  }

  const work = data?.inProgress ?? null;
  return (
    <section className="card" aria-labelledby="backups-heading" data-testid="backups-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="backups-heading" className="text-base">Backups</h2>
        <button type="button" className="btn btn-primary w-full sm:w-auto" disabled={busy || work !== null} onClick={() => act("backups")}>
          Back up now
        </button>
      </div>
      <div className="space-y-3 px-5 py-4 text-sm">
        {work ? (
          <p role="status" data-testid="backup-progress" className="text-sky-900">
            <span className="font-medium">{doing[work.action]}{work.status === "queued" ? " (queued)" : `… ${work.progress}%`}</span>
            {work.note ? <span className="ml-2 break-words text-slate-600">{work.note}</span> : null}
          </p>
        ) : null}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
        {data && data.items.length === 0 ? (
          <p className="text-slate-500">No backups yet. A backup is a compressed, checksummed copy of the disk, proven by booting it in a throwaway guest.</p>
        ) : null}
        <ul className="divide-y divide-slate-100" data-testid="backup-list">
          {data?.items.map((b) => {
            const v = verdict(b);
            return (
              <li key={b.id} className="flex flex-col gap-2 py-3 sm:flex-row sm:items-start sm:justify-between" data-testid="backup-item">
                <div className="min-w-0">
                  <p className="font-medium text-slate-800">
                    {formatDateTime(b.createdAt)} <span className="font-normal text-slate-500">{sizeText(b.sizeBytes)}</span>
                  </p>
                  {b.sha256 ? <p className="truncate font-mono text-xs text-slate-500" title={b.sha256}>sha256 {b.sha256}</p> : null}
                  <p className={`break-words ${v.tone}`} data-testid="backup-verdict">{v.text}</p>
                </div>
                {b.status === "succeeded" ? (
                  <div className="flex w-full gap-2 sm:w-auto">
                    <button
                      type="button"
                      className="btn btn-secondary flex-1 sm:flex-none"
                      disabled={busy || work !== null}
                      onClick={() => {
                        if (window.confirm(`Restore the backup of ${formatDateTime(b.createdAt)} in place? The guest stops, its disk is replaced and it boots again; what was written since is lost.`)) {
                          void act("restore", { backup: b.id, mode: "in-place" });
                        }
                      }}
                    >
                      Restore
                    </button>
                    <button type="button" className="btn btn-secondary flex-1 sm:flex-none" disabled={busy || work !== null} onClick={() => act(`backups/${b.id}/verify`)}>
                      Verify
                    </button>
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}
