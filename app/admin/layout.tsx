import type { ReactNode } from "react";
import { pageUser } from "@/lib/auth/require-user";
import { AdminNav } from "@/components/admin/AdminNav";
import { PortalUrlWarning } from "@/components/PortalUrlWarning";
import { linkBase } from "@/lib/env";

/**
 * Every admin page under one sub-menu. Each page still checks the role itself (a layout is
 * not re-run on every navigation); others see the page's refusal without the menu. Without
 * PORTAL_URL every admin page says where the links the portal sends will point.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const user = await pageUser();
  return (
    <>
      {user?.role === "admin" ? (
        <>
          <AdminNav />
          {linkBase.configured ? null : <div className="mb-6"><PortalUrlWarning unset linksPointTo={linkBase.url} /></div>}
        </>
      ) : null}
      {children}
    </>
  );
}
