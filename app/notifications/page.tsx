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
        description="What happens to your orders and environments, orders waiting for your approval, lease warnings, extension decisions and course news. Choose on Account which also come by e-mail."
      />
      <NotificationList items={items} />
    </>
  );
}
