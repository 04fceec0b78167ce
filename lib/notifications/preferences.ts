import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { emailPreferences, notificationEvents, type NotificationEvent } from "../db/schema";

export type EmailChoices = Record<NotificationEvent, boolean>;

/** The user's choice per event: e-mail or not. Every kind is e-mailed until turned off. */
export async function emailChoices(db: Db, userId: string): Promise<EmailChoices> {
  const rows = await db.select().from(emailPreferences).where(eq(emailPreferences.userId, userId));
  const off = new Set(rows.filter((r) => !r.email).map((r) => r.event));
  return Object.fromEntries(notificationEvents.map((e) => [e, !off.has(e)])) as EmailChoices;
}

/** Sets the given choices (the others stay); returns all of them. */
export async function setEmailChoices(db: Db, userId: string, changes: Partial<EmailChoices>): Promise<EmailChoices> {
  const rows = Object.entries(changes).map(([event, email]) => ({ userId, event: event as NotificationEvent, email: Boolean(email) }));
  if (rows.length) {
    await db
      .insert(emailPreferences)
      .values(rows)
      .onConflictDoUpdate({ target: [emailPreferences.userId, emailPreferences.event], set: { email: sql`excluded.email` } });
  }
  return emailChoices(db, userId);
}

/** Which of `userIds` want `event` by e-mail. */
export async function wantEmail(db: Db, userIds: string[], event: NotificationEvent): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const off = await db
    .select({ userId: emailPreferences.userId })
    .from(emailPreferences)
    .where(and(inArray(emailPreferences.userId, userIds), eq(emailPreferences.event, event), eq(emailPreferences.email, false)));
  const refused = new Set(off.map((r) => r.userId));
  return new Set(userIds.filter((id) => !refused.has(id)));
}
