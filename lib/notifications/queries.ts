import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { notifications } from "../db/schema";

export type NewNotification = { userId: string; kind: string; title: string; body?: string; link?: string | null };

export async function notify(db: Db, n: NewNotification | NewNotification[]): Promise<void> {
  const rows = Array.isArray(n) ? n : [n];
  if (rows.length === 0) return;
  await db.insert(notifications).values(rows.map((r) => ({ userId: r.userId, kind: r.kind, title: r.title, body: r.body ?? "", link: r.link ?? null })));
}

export async function unreadCount(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(notifications).where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

/** The user's newest notifications (unread first is left to the page: newest first here). */
export async function listNotifications(db: Db, userId: string, limit = 100) {
  const rows = await db
    .select()
    .from(notifications)
    .where(eq(notifications.userId, userId))
    .orderBy(desc(notifications.createdAt))
    .limit(limit);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    title: r.title,
    body: r.body,
    link: r.link,
    createdAt: r.createdAt.toISOString(),
    readAt: r.readAt?.toISOString() ?? null,
  }));
}

/** Marks the given notifications (all when `ids` is omitted) of this user read; returns how many changed. */
export async function markRead(db: Db, userId: string, ids?: string[]): Promise<number> {
  const mine = and(eq(notifications.userId, userId), isNull(notifications.readAt));
  const changed = await db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(ids ? and(mine, inArray(notifications.id, ids.length ? ids : ["00000000-0000-0000-0000-000000000000"])) : mine)
    .returning({ id: notifications.id });
  return changed.length;
}
