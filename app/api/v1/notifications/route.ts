import { apiRoute, json } from "@/lib/api/handler";
import { listNotifications, unreadCount } from "@/lib/notifications/queries";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ db, actor }) =>
  json({ unread: await unreadCount(db, actor.id), notifications: await listNotifications(db, actor.id) }),
);
