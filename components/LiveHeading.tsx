"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { StatusBadge } from "./StatusBadge";
import type { StreamMode } from "./useLiveSnapshot";

/** How the page gets its updates: live events, polling, or nothing more to follow. */
export function StreamIndicator({ mode }: { mode: StreamMode }) {
  const text = { live: "Live updates", polling: "Updating every 2 s", connecting: "Connecting…", closed: "Final state" }[mode];
  const dot = { live: "bg-emerald-500", polling: "bg-amber-500", connecting: "bg-slate-400", closed: "bg-slate-300" }[mode];
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-500" data-testid="stream-mode" data-mode={mode}>
      <span aria-hidden className={`size-2 rounded-full ${dot} ${mode === "live" ? "animate-pulse" : ""}`} />
      {text}
    </span>
  );
}

/** The way back to the list a live page belongs to. */
export function LiveBreadcrumb({ href, label, name, mono = false }: { href: string; label: string; name: string; mono?: boolean }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-slate-500">
      <Link prefetch={false} href={href} className="hover:text-slate-800 hover:underline">{label}</Link>
      <span aria-hidden className="mx-2">/</span>
      <span className={`${mono ? "font-mono " : ""}text-slate-700 wrap-anywhere`}>{name}</span>
    </nav>
  );
}

/**
 * The top of a page that follows something live (an order, a campaign): its name and status,
 * one line on what it is, how updates arrive, and the actions on the right.
 */
export function LiveHeading(props: {
  name: string;
  status: string;
  /** Test ids of the name and the status badge, e.g. `order-name` and `order-status`. */
  testIds: { name: string; status: string };
  mono?: boolean;
  mode: StreamMode;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="flex flex-wrap items-start justify-between gap-4">
      <div className="min-w-0">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className={`min-w-0 ${props.mono ? "font-mono " : ""}wrap-anywhere`} data-testid={props.testIds.name}>{props.name}</h1>
          <StatusBadge status={props.status} className="px-3 py-1 text-sm" testId={props.testIds.status} />
        </div>
        <p className="mt-1.5 text-sm text-slate-600">{props.children}</p>
        <div className="mt-2">
          <StreamIndicator mode={props.mode} />
        </div>
      </div>
      {props.actions}
    </div>
  );
}
