import type { ReactNode } from "react";
import { pageUser } from "@/lib/auth/require-user";
import { AdminNav } from "@/components/admin/AdminNav";

/**
 * Every admin page under one sub-menu. Each page still checks the role itself (a layout is
 * not re-run on every navigation); others see the page's refusal without the menu.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const user = await pageUser();
  return (
    <>
      {user?.role === "admin" ? <AdminNav /> : null}
      {children}
    </>
  );
}
