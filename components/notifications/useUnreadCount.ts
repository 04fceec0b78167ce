"use client";

import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";
import { api } from "../api-client";

/** How often an open page asks again (while it is visible). */
const POLL_MS = 60_000;

const UNREAD_EVENT = "portal:unread";

/** Tells the bell the count a change on this page left (e.g. "mark all read" answered it). */
export function announceUnread(unread: number): void {
  window.dispatchEvent(new CustomEvent<number>(UNREAD_EVENT, { detail: unread }));
}

/**
 * The bell's unread count. The root layout renders it once per full page load, and moving
 * between pages does not render the layout again: the count is asked for again on every
 * page change, when the tab becomes visible, and every minute, so a notification that came
 * meanwhile (an approval, a delivery) shows without a reload.
 */
export function useUnreadCount(rendered: number, signedIn: boolean): number {
  const pathname = usePathname();
  const [unread, setUnread] = useState(rendered);
  // A new render of the layout knows best, and so does this page when it changed the count.
  useEffect(() => setUnread(rendered), [rendered]);
  useEffect(() => {
    const told = (e: Event) => setUnread((e as CustomEvent<number>).detail);
    window.addEventListener(UNREAD_EVENT, told);
    return () => window.removeEventListener(UNREAD_EVENT, told);
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    let gone = false;
    const ask = async () => {
      if (document.visibilityState !== "visible") return;
      const res = await api<{ unread: number }>("/api/v1/notifications/unread");
      if (!gone && res.ok) setUnread(res.data.unread);
    };
    void ask();
    const timer = setInterval(ask, POLL_MS);
    document.addEventListener("visibilitychange", ask);
    return () => {
      gone = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", ask);
    };
  }, [pathname, signedIn]);
  return unread;
}
