"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "../api-client";
import { formatDateTime } from "../format";
import { announceUnread } from "./useUnreadCount";

export type NotificationItem = { id: string; kind: string; title: string; body: string; link: string | null; createdAt: string; readAt: string | null };

const tone = (kind: string) =>
  kind.endsWith("stopped") || kind.endsWith("retired") || kind.endsWith("rejected") || kind.endsWith("failed")
    ? "border-l-rose-500"
    : kind.startsWith("lease.warn") || kind.endsWith("held") || kind.endsWith("awaiting_approval")
      ? "border-l-amber-500"
      : kind.endsWith("ready") || kind.endsWith("approved")
        ? "border-l-emerald-500"
        : "border-l-sky-500";

/** The user's notifications, unread ones marked; mark one or all read (the bell's count follows). */
export function NotificationList({ items }: { items: NotificationItem[] }) {
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const unread = items.filter((n) => !n.readAt).length;

  async function mark(ids?: string[]) {
    setBusy(ids?.[0] ?? "all");
    setError(null);
    const res = await api<{ unread: number }>("/api/v1/notifications/read", { method: "POST", body: ids ? { ids } : {} });
    if (res.ok) announceUnread(res.data.unread);
    else setError(res.error);
    router.refresh();
    setBusy(null);
  }

  if (items.length === 0) {
    return <div className="card p-10 text-center text-slate-600">Nothing yet. What happens to your orders and environments (held, approved, rejected, ready, failed, stopped, moved, destroyed), lease warnings and course news appear here.</div>;
  }
  return (
    <div className="space-y-3">
      <div className="flex items-center justify-between text-sm text-slate-600">
        <span data-testid="unread-summary">{unread ? `${unread} unread` : "All read"}</span>
        {unread ? (
          <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => mark()}>
            {busy === "all" ? "Marking…" : "Mark all read"}
          </button>
        ) : null}
      </div>
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
      <ul className="space-y-2" aria-label="Notifications">
        {items.map((n) => (
          <li
            key={n.id}
            data-testid="notification"
            data-read={n.readAt ? "true" : "false"}
            className={`card border-l-4 px-4 py-3 ${tone(n.kind)} ${n.readAt ? "opacity-70" : ""}`}
          >
            <div className="flex flex-wrap items-start justify-between gap-3">
              <div className="min-w-0">
                <p className={`text-sm ${n.readAt ? "text-slate-700" : "font-semibold text-slate-900"}`}>
                  {!n.readAt ? <span className="mr-2 inline-block size-2 rounded-full bg-sky-600" aria-label="unread" /> : null}
                  {n.link ? <Link prefetch={false} href={n.link} className="hover:underline">{n.title}</Link> : n.title}
                </p>
                {n.body ? <p className="mt-0.5 text-sm text-slate-600">{n.body}</p> : null}
                <p className="mt-1 text-xs text-slate-500">{formatDateTime(n.createdAt)}</p>
              </div>
              {!n.readAt ? (
                <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => mark([n.id])}>
                  {busy === n.id ? "…" : "Mark read"}
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
