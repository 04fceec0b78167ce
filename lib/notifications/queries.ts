import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { notifications, users, type NotificationEvent } from "../db/schema";
import { portalLink, queueMail } from "../mail/outbox";
import { wantEmail } from "./preferences";

export type NewNotification = { userId: string; kind: string; title: string; body?: string; link?: string | null };

/** The e-mail copy of a notification: a greeting, the message, the link into the portal. */
export function mailText(name: string, body: string, link: string | null | undefined): string {
  return `Hello ${name},\n\n${body}${link ? `\n\n${portalLink(link)}` : ""}\n\n-- The environment portal\n`;
}

/**
 * Records in-app notifications (in the caller's transaction). With `email`, each recipient who
 * wants that kind of event by e-mail (Account) also gets it as an e-mail in the outbox; returns
 * the e-mails' ids, per recipient, for `dispatchMail` after commit.
 */
export async function notify(db: Db, n: NewNotification | NewNotification[], opts: { email?: NotificationEvent } = {}): Promise<Map<string, string>> {
  const rows = Array.isArray(n) ? n : [n];
  const mailed = new Map<string, string>();
  if (rows.length === 0) return mailed;
  await db.insert(notifications).values(rows.map((r) => ({ userId: r.userId, kind: r.kind, title: r.title, body: r.body ?? "", link: r.link ?? null })));
  if (!opts.email) return mailed;
  const wanted = await wantEmail(db, rows.map((r) => r.userId), opts.email);
  const recipients = wanted.size
    ? await db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(and(inArray(users.id, [...wanted]), eq(users.disabled, false)))
    : [];
  const byId = new Map(recipients.map((u) => [u.id, u]));
  const mail = rows.flatMap((r) => {
    const u = byId.get(r.userId);
    return u ? [{ userId: u.id, kind: opts.email!, to: u.email, subject: r.title, text: mailText(u.name, r.body ?? "", r.link) }] : [];
  });
  const ids = await queueMail(db, mail);
  ids.forEach((id, i) => mailed.set(mail[i].userId, id));
  return mailed;
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
