import type { Metadata } from "next";
import { getDb } from "@/lib/db/client";
import { listNotifications } from "@/lib/notifications/queries";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { NotificationList } from "@/components/notifications/NotificationList";

export const metadata: Metadata = { title: "Notifications" };
export const dynamic = "force-dynamic";

export default async function NotificationsPage() {
  const user = await requireUser("/notifications");
  const items = await listNotifications(await getDb(), user.id);
  return (
    <>
      <PageHeader
        title="Notifications"
        description="Lease warnings, stopped and destroyed environments, extension decisions and course news. E-mail copies go to your address when the portal has a mail server."
      />
      <NotificationList items={items} />
    </>
  );
}
