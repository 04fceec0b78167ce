"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Re-reads the page every few seconds while something on it is still changing (machines being built). */
export function AutoRefresh({ active, everyMs = 2000 }: { active: boolean; everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(t);
  }, [active, everyMs, router]);
  return active ? <p className="text-xs text-slate-500" data-testid="auto-refresh">Machines are being built or reset; this page updates every {Math.round(everyMs / 1000)} s.</p> : null;
}
