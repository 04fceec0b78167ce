import { env } from "../env";
import { sendSmtp, type MailMessage } from "./smtp";

export type MailOutcome = { status: "sent" | "skipped" | "failed"; error?: string };

/** An absolute link into the portal for e-mails (relative when no public address is configured). */
export function portalLink(path: string): string {
  const base = env.PORTAL_URL ?? env.NEXTAUTH_URL;
  return base ? new URL(path, base).toString() : path;
}

/**
 * Sends one e-mail from MAIL_FROM through SMTP_URL. Without SMTP_URL the mail is skipped with
 * one log line; a refusal is logged and returned, never thrown: the in-app notification has
 * already been recorded and the caller records the outcome.
 */
export async function sendMail(msg: MailMessage): Promise<MailOutcome> {
  if (!env.SMTP_URL) {
    console.log(`[mail] SMTP_URL is not set: e-mail "${msg.subject}" to ${msg.to} skipped`);
    return { status: "skipped" };
  }
  try {
    await sendSmtp(env.SMTP_URL, env.MAIL_FROM, msg);
    return { status: "sent" };
  } catch (err) {
    const error = (err as Error).message;
    console.error(`[mail] e-mail "${msg.subject}" to ${msg.to} not sent: ${error}`);
    return { status: "failed", error: error.slice(0, 500) };
  }
}
