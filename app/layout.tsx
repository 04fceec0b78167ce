import type { Metadata } from "next";
import type { ReactNode } from "react";
import { pageUser } from "@/lib/auth/require-user";
import { TopNav } from "@/components/TopNav";
import { NoEvalZod } from "@/components/NoEvalZod";
import { getDb } from "@/lib/db/client";
import { unreadCount } from "@/lib/notifications/queries";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Environment Portal", template: "%s · Environment Portal" },
  description: "Order Linux and Solaris environments and watch them being delivered.",
  icons: { icon: "/favicon.svg" },
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await pageUser();
  const unread = user ? await unreadCount(await getDb(), user.id) : 0;
  return (
    <html lang="en">
      <body className="min-h-screen">
        <NoEvalZod />
        <TopNav user={user ? { email: user.email, name: user.name, role: user.role } : null} unread={unread} />
        <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">{children}</main>
      </body>
    </html>
  );
}
