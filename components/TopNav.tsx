"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { SignOutButton } from "./SignOutButton";
import { useUnreadCount } from "./notifications/useUnreadCount";

export type NavUser = { email: string; name: string; role: string };

type NavLink = { href: string; label: string; roles?: string[] };

/** The admin's pages (delivery, audit, hosts, …) are reached from the Admin page's own menu. */
const links: NavLink[] = [
  { href: "/catalog", label: "Catalog" },
  { href: "/orders", label: "My orders" },
  { href: "/service-ips", label: "Service IPs", roles: ["customer", "approver", "admin"] },
  { href: "/approvals", label: "Approvals", roles: ["approver", "admin"] },
  { href: "/courses", label: "Courses", roles: ["approver", "student", "admin"] },
  { href: "/admin", label: "Admin", roles: ["admin"] },
  { href: "/account", label: "Account" },
];

function isActive(pathname: string, href: string) {
  if (href === "/orders") return pathname === "/orders" || (pathname.startsWith("/orders/") && !pathname.startsWith("/orders/new"));
  return pathname === href || pathname.startsWith(`${href}/`);
}

const MENU_ID = "main-menu";

/**
 * The top bar: product name, the links the user's role opens, the bell, who is signed in, sign
 * out. Below `lg` the links fold behind a menu button; the open menu closes on navigation,
 * Escape, or a tap outside the bar.
 */
export function TopNav({ user, unread: rendered = 0 }: { user: NavUser | null; unread?: number }) {
  const pathname = usePathname() ?? "/";
  const unread = useUnreadCount(rendered, user !== null);
  // The path the menu was opened on: navigating elsewhere closes it without an effect.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const header = useRef<HTMLElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpenOn(null);
      button.current?.focus();
    };
    const onPointer = (e: PointerEvent) => {
      if (!header.current?.contains(e.target as Node)) setOpenOn(null);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  const visible = user ? links.filter((l) => !l.roles || l.roles.includes(user.role)) : [];
  return (
    <header ref={header} className="relative border-b border-slate-800 bg-slate-900 text-slate-100">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-2 px-4 sm:gap-3 sm:px-6 lg:gap-6">
        {user ? (
          <button
            ref={button}
            type="button"
            aria-expanded={open}
            aria-controls={MENU_ID}
            onClick={() => setOpenOn(open ? null : pathname)}
            className="grid size-9 shrink-0 place-items-center rounded-md text-slate-200 hover:bg-slate-800 hover:text-white lg:hidden"
          >
            <span className="sr-only">Menu</span>
            <svg aria-hidden viewBox="0 0 24 24" className="size-6" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round">
              {open ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 7h16M4 12h16M4 17h16" />}
            </svg>
          </button>
        ) : null}
        <Link prefetch={false} href={user ? "/" : "/login"} className="flex shrink-0 items-center gap-2 font-semibold tracking-tight text-white">
          <span aria-hidden className="grid size-7 place-items-center rounded-md bg-sky-600 text-xs font-bold">EP</span>
          {/* On a phone the badge alone names the product; the menu, bell and sign out need the room. */}
          <span className={user ? "sr-only sm:not-sr-only" : undefined}>Environment Portal</span>
        </Link>
        {user ? (
          <nav
            id={MENU_ID}
            aria-label="Main"
            className={`${open ? "absolute inset-x-0 top-full z-40 flex flex-col gap-1 border-b border-slate-800 bg-slate-900 px-4 pt-2 pb-4 shadow-lg sm:px-6" : "hidden"} text-sm lg:static lg:z-auto lg:flex lg:flex-row lg:items-center lg:gap-1 lg:border-0 lg:p-0 lg:shadow-none`}
          >
            {visible.map((l) => {
              const active = isActive(pathname, l.href);
              return (
                <Link prefetch={false}
                  key={l.href}
                  href={l.href}
                  aria-current={active ? "page" : undefined}
                  // A tap on the page already shown closes the menu too.
                  onClick={() => setOpenOn(null)}
                  className={`rounded-md px-3 py-2 font-medium transition-colors lg:py-1.5 ${active ? "bg-slate-700 text-white" : "text-slate-300 hover:bg-slate-800 hover:text-white"}`}
                >
                  {l.label}
                </Link>
              );
            })}
            <p className="mt-2 border-t border-slate-800 px-3 pt-3 text-xs break-all text-slate-400 lg:hidden">
              Signed in as <span className="text-slate-200">{user.email}</span> <span className="capitalize">({user.role})</span>
            </p>
          </nav>
        ) : null}
        {user ? (
          <div className="ml-auto flex shrink-0 items-center gap-2 text-sm sm:gap-3">
            <Link
              prefetch={false}
              href="/notifications"
              aria-label={unread ? `Notifications: ${unread} unread` : "Notifications: none unread"}
              aria-current={pathname === "/notifications" ? "page" : undefined}
              data-testid="nav-bell"
              className="relative grid size-9 place-items-center rounded-md text-slate-300 hover:bg-slate-800 hover:text-white"
            >
              <svg aria-hidden viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
                <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
                <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
              </svg>
              {unread ? (
                <span data-testid="nav-unread" className="absolute -top-0.5 -right-0.5 min-w-5 rounded-full bg-rose-600 px-1 text-center text-[11px] leading-5 font-semibold text-white">
                  {unread > 99 ? "99+" : unread}
                </span>
              ) : null}
            </Link>
            <span className="hidden text-right leading-tight xl:block">
              <span className="block text-slate-100" data-testid="nav-user-email">{user.email}</span>
              <span className="block text-xs text-slate-400 capitalize">{user.role}</span>
            </span>
            <SignOutButton />
          </div>
        ) : null}
      </div>
    </header>
  );
}
