import { apiRoute, json } from "@/lib/api/handler";
import { unreadCount } from "@/lib/notifications/queries";

export const dynamic = "force-dynamic";

/** Just the count of my unread notifications: what the bell asks for while a page is open. */
export const GET = apiRoute({}, async ({ db, actor }) => json({ unread: await unreadCount(db, actor.id) }));
