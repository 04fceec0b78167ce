"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { SignOutButton } from "./SignOutButton";
import { useUnreadCount } from "./notifications/useUnreadCount";

export type NavUser = { email: string; name: string; role: string };

type NavLink = { href: string; label: string; roles?: string[] };

const links: NavLink[] = [
  { href: "/catalog", label: "Catalog" },
  { href: "/orders", label: "My orders" },
  { href: "/approvals", label: "Approvals", roles: ["approver", "admin"] },
  { href: "/courses", label: "Courses", roles: ["approver", "student", "admin"] },
  { href: "/admin", label: "Admin", roles: ["admin"] },
  { href: "/admin/dashboard", label: "Delivery", roles: ["admin"] },
  { href: "/admin/audit", label: "Audit", roles: ["admin"] },
  { href: "/account", label: "Account" },
];

function isActive(pathname: string, href: string) {
  // A page under a link of its own (/admin/audit) does not also light up its parent (/admin).
  if (links.some((l) => l.href !== href && l.href.startsWith(`${href}/`) && (pathname === l.href || pathname.startsWith(`${l.href}/`)))) return false;
  if (href === "/orders") return pathname === "/orders" || (pathname.startsWith("/orders/") && !pathname.startsWith("/orders/new"));
  return pathname === href || pathname.startsWith(`${href}/`);
}

/** The top bar: product name, the links the user's role opens, who is signed in, sign out. */
export function TopNav({ user, unread: rendered = 0 }: { user: NavUser | null; unread?: number }) {
  const pathname = usePathname() ?? "/";
  const unread = useUnreadCount(rendered, user !== null);
  const visible = user ? links.filter((l) => !l.roles || l.roles.includes(user.role)) : [];
  return (
    <header className="border-b border-slate-800 bg-slate-900 text-slate-100">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-6 px-4 sm:px-6">
        <Link prefetch={false} href={user ? "/catalog" : "/login"} className="flex items-center gap-2 font-semibold tracking-tight text-white">
          <span aria-hidden className="grid size-7 place-items-center rounded-md bg-sky-600 text-xs font-bold">EP</span>
          Environment Portal
        </Link>
        {user ? (
          <nav aria-label="Main" className="flex items-center gap-1 text-sm">
            {visible.map((l) => {
              const active = isActive(pathname, l.href);
              return (
                <Link prefetch={false}
                  key={l.href}
                  href={l.href}
                  aria-current={active ? "page" : undefined}
                  className={`rounded-md px-3 py-1.5 font-medium transition-colors ${active ? "bg-slate-700 text-white" : "text-slate-300 hover:bg-slate-800 hover:text-white"}`}
                >
                  {l.label}
                </Link>
              );
            })}
          </nav>
        ) : null}
        {user ? (
          <div className="ml-auto flex items-center gap-3 text-sm">
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
            <span className="hidden text-right leading-tight sm:block">
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
