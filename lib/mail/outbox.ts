import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { mails } from "../db/schema";
import { env } from "../env";
import { writeAudit } from "../audit/write";
import { enqueueMails, enqueueOrLeave } from "../jobs/queues";
import { isRefusal, mailConfigured, sendMessage } from "./transport";

/**
 * The outbox: an e-mail is a row written in the caller's transaction (with whatever it tells
 * about), enqueued after commit, and sent by the mail queue's worker. PostgreSQL holds it
 * until it is sent: a lost enqueue, Redis losing its data or the mail server being down delay
 * mail, they do not lose it.
 */
export type NewMail = { userId: string; kind: string; to: string; subject: string; text: string };

/** An absolute link into the portal for e-mails (relative when no public address is configured). */
export function portalLink(path: string): string {
  const base = env.PORTAL_URL ?? env.NEXTAUTH_URL;
  return base ? new URL(path, base).toString() : path;
}

let toldUnconfigured = false;

/**
 * Writes e-mails to the outbox (in the caller's transaction); returns their ids, to
 * `dispatchMail` after commit. Without SMTP_URL nothing is written and [] returned: the
 * portal sends no e-mail (one log line says so, once).
 */
export async function queueMail(db: Db, rows: NewMail[]): Promise<string[]> {
  if (rows.length === 0) return [];
  if (!mailConfigured()) {
    if (!toldUnconfigured) console.log("[mail] SMTP_URL is not set: the portal sends no e-mail (notifications stay in the app)");
    toldUnconfigured = true;
    return [];
  }
  const inserted = await db.insert(mails).values(rows).returning({ id: mails.id });
  return inserted.map((r) => r.id);
}

/** Enqueues committed e-mails; if Redis is down now the reconciler sends them later. */
export async function dispatchMail(mailIds: string[]): Promise<void> {
  if (mailIds.length) await enqueueOrLeave(`${mailIds.length} e-mail(s)`, () => enqueueMails(mailIds));
}

/** The server refused the mail for good (a 5xx to its recipient or content): no retry helps. */
export class MailRefusedError extends Error {}

/**
 * Sends one pending e-mail. A mail already sent or failed is skipped (a redelivered job).
 * A failure counts the attempt and keeps the error; on the last attempt, or when the server
 * refused it for good, the mail is marked failed and an audit event (mail.failed) tells the
 * admins. Throws on failure so the queue retries with its backoff.
 */
export async function deliverMail(db: Db, mailId: string, opts: { lastAttempt: boolean }): Promise<"sent" | "skipped"> {
  const [mail] = await db.select().from(mails).where(eq(mails.id, mailId));
  if (!mail || mail.status !== "pending") return "skipped";
  try {
    await sendMessage({ to: mail.to, subject: mail.subject, text: mail.text });
  } catch (err) {
    const error = ((err as Error).message || String(err)).slice(0, 500);
    const refused = isRefusal(err);
    const failed = refused || opts.lastAttempt;
    // The failed state and its audit event commit together: whoever sees one sees the other.
    await db.transaction(async (tx) => {
      await tx
        .update(mails)
        .set({ attempts: sql`${mails.attempts} + 1`, error, ...(failed ? { status: "failed" as const } : {}) })
        .where(and(eq(mails.id, mailId), eq(mails.status, "pending")));
      if (!failed) return;
      await writeAudit(tx, {
        actorId: null, action: "mail.failed", targetType: "mail", targetId: mailId,
        data: { to: mail.to, subject: mail.subject, kind: mail.kind, attempts: mail.attempts + 1, error },
      });
    });
    if (failed) console.error(`[mail] e-mail ${mailId} (${mail.kind}) to ${mail.to} failed after ${mail.attempts + 1} attempt(s): ${error}`);
    throw refused ? new MailRefusedError(error) : new Error(error);
  }
  await db
    .update(mails)
    .set({ status: "sent", sentAt: new Date(), attempts: sql`${mails.attempts} + 1`, error: null, text: "" })
    .where(eq(mails.id, mailId));
  return "sent";
}

/** Pending e-mails, oldest first, for the reconciler (at most `limit` a pass). */
export async function pendingMailIds(db: Db, limit = 1000): Promise<string[]> {
  const rows = await db.select({ id: mails.id }).from(mails).where(eq(mails.status, "pending")).orderBy(asc(mails.createdAt)).limit(limit);
  return rows.map((r) => r.id);
}
