import nodemailer, { type Transporter } from "nodemailer";
import { env } from "../env";

/**
 * SMTP through nodemailer: plain SMTP with STARTTLS when the server offers it, smtps:// (TLS
 * from the start), AUTH from the URL's user and password, a pool of connections kept open.
 */
export type MailMessage = { to: string; subject: string; text: string };

/** What the portal sets unless SMTP_URL's query says otherwise (nodemailer reads the query). */
const DEFAULTS: Record<string, string> = {
  pool: "true",
  maxConnections: "3",
  connectionTimeout: "15000",
  greetingTimeout: "15000",
  socketTimeout: "60000",
};

/** SMTP_URL with the portal's defaults added to its query. */
export function transportUrl(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  for (const [key, value] of Object.entries(DEFAULTS)) if (!url.searchParams.has(key)) url.searchParams.set(key, value);
  return url.toString();
}

export function createMailer(smtpUrl: string, from: string): Transporter {
  return nodemailer.createTransport(transportUrl(smtpUrl), { from });
}

const store = globalThis as unknown as { __portalMailer?: Transporter };

export function mailConfigured(): boolean {
  return Boolean(env.SMTP_URL);
}

/** Sends one message from MAIL_FROM through SMTP_URL; throws what nodemailer throws. */
export async function sendMessage(msg: MailMessage): Promise<void> {
  if (!env.SMTP_URL) throw new Error("no mail server is configured (SMTP_URL)");
  store.__portalMailer ??= createMailer(env.SMTP_URL, env.MAIL_FROM);
  await store.__portalMailer.sendMail({ to: msg.to, subject: msg.subject, text: msg.text });
}

/** Closes the pooled connections (worker shutdown). */
export function closeMailer(): void {
  store.__portalMailer?.close();
  store.__portalMailer = undefined;
}

/**
 * Whether the server refused this recipient or this message (a 5xx to RCPT or DATA, or an
 * address nodemailer cannot use): trying again will not help. Connection, TLS and sign-in
 * errors, 4xx answers and a refused sender (configuration) are worth retrying.
 */
export function isRefusal(err: unknown): boolean {
  const e = err as { code?: string; command?: string; responseCode?: number };
  if (e.code !== "EENVELOPE" && e.code !== "EMESSAGE") return false;
  if (e.command === "MAIL FROM") return false;
  return !e.responseCode || e.responseCode >= 500;
}
