"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { SignOutButton } from "./SignOutButton";

export type NavUser = { email: string; name: string; role: string };

type NavLink = { href: string; label: string; roles?: string[] };

const links: NavLink[] = [
  { href: "/catalog", label: "Catalog" },
  { href: "/orders", label: "My orders" },
  { href: "/approvals", label: "Approvals", roles: ["approver", "admin"] },
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
export function TopNav({ user }: { user: NavUser | null }) {
  const pathname = usePathname() ?? "/";
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
