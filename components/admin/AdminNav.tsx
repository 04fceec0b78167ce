"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** The admin pages, in the order an admin sets the portal up and then watches it. */
const adminPages = [
  { href: "/admin/users", label: "Users" },
  { href: "/admin/hosts", label: "Hosts" },
  { href: "/admin/networks", label: "Networks" },
  { href: "/admin/images", label: "Images" },
  { href: "/admin/campaigns", label: "Campaigns" },
  { href: "/admin/groups", label: "Groups" },
  { href: "/admin/policies", label: "Rules" },
  { href: "/admin/sign-in", label: "Sign-in" },
  { href: "/admin/dashboard", label: "Delivery" },
  { href: "/admin/audit", label: "Audit" },
] as const;

/**
 * The admin sub-menu: one tab per admin page, the current one marked. On a phone the strip
 * scrolls sideways inside its own box instead of widening the page.
 */
export function AdminNav() {
  const pathname = usePathname() ?? "";
  return (
    <nav aria-label="Administration" className="-mx-4 mb-6 overflow-x-auto border-b border-slate-200 sm:mx-0">
      <ul className="flex min-w-max gap-1 px-4 sm:px-0">
        {adminPages.map((p) => {
          const active = pathname === p.href || pathname.startsWith(`${p.href}/`);
          return (
            <li key={p.href}>
              <Link
                prefetch={false}
                href={p.href}
                aria-current={active ? "page" : undefined}
                className={`-mb-px block border-b-2 px-3 py-2 text-sm font-medium whitespace-nowrap ${active ? "border-sky-700 text-sky-800" : "border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900"}`}
              >
                {p.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
