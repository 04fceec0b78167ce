import net from "node:net";
import tls from "node:tls";
import { randomBytes } from "node:crypto";
import os from "node:os";

/**
 * A small SMTP client (RFC 5321) on node:net and node:tls: plain SMTP with STARTTLS when the
 * server offers it, SMTPS (smtps://, implicit TLS), and AUTH PLAIN from the URL's user and
 * password. Enough for a relay such as the site's mail server; no pooling, one message per
 * connection.
 */
export type MailMessage = { to: string; subject: string; text: string };

export class SmtpError extends Error {
  constructor(message: string, public readonly code?: number) {
    super(message);
    this.name = "SmtpError";
  }
}

const ADDRESS = /^[^\s<>()",;:\\@]+@[A-Za-z0-9.-]+$/;
const HEADER_SAFE = /^[^\r\n]*$/;

/** Subject as an RFC 2047 encoded word when it is not plain ASCII. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/** The message as sent after DATA: headers, blank line, body (dot-stuffed, CRLF). */
export function formatMessage(from: string, msg: MailMessage, now = new Date()): string {
  if (!ADDRESS.test(from) || !ADDRESS.test(msg.to)) throw new SmtpError(`not a mail address: ${!ADDRESS.test(from) ? from : msg.to}`);
  if (!HEADER_SAFE.test(msg.subject)) throw new SmtpError("a subject cannot contain line breaks");
  const ascii = /^[\x00-\x7f]*$/.test(msg.text);
  const body = ascii
    ? msg.text.replace(/\r?\n/g, "\r\n")
    : (Buffer.from(msg.text, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\r\n");
  const domain = from.split("@")[1];
  const headers = [
    `From: ${from}`,
    `To: ${msg.to}`,
    `Subject: ${encodeHeader(msg.subject)}`,
    `Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${randomBytes(12).toString("hex")}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${ascii ? "7bit" : "base64"}`,
  ];
  const stuffed = body.split("\r\n").map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n");
  return `${headers.join("\r\n")}\r\n\r\n${stuffed}\r\n`;
}

type Reply = { code: number; lines: string[] };

/** Reads SMTP replies (multi-line "250-" ... "250 ") from a socket that may be upgraded to TLS. */
class Conversation {
  private buffer = "";
  private lines: string[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(public socket: net.Socket | tls.TLSSocket, private readonly timeoutMs: number) {
    this.attach(socket);
  }

  attach(socket: net.Socket | tls.TLSSocket) {
    this.socket = socket;
    socket.setTimeout(this.timeoutMs);
    socket.on("data", (chunk: Buffer) => this.feed(chunk.toString("utf8")));
    socket.on("timeout", () => this.fail(new SmtpError(`no answer from the mail server within ${this.timeoutMs} ms`)));
    socket.on("error", (err) => this.fail(new SmtpError(`mail server connection: ${err.message}`)));
    socket.on("close", () => this.fail(new SmtpError("the mail server closed the connection")));
  }

  private fail(err: Error) {
    this.failure ??= err;
    this.waiting?.reject(this.failure);
    this.waiting = null;
  }

  private feed(text: string) {
    this.buffer += text;
    let i: number;
    while ((i = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, "");
      this.buffer = this.buffer.slice(i + 1);
      this.lines.push(line);
      if (/^\d{3}( |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), lines: this.lines.map((l) => l.slice(4)) };
        this.lines = [];
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(reply);
      }
    }
  }

  /** Detaches from the plain socket before a STARTTLS upgrade. */
  release() {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("timeout");
    this.socket.removeAllListeners("error");
    this.socket.removeAllListeners("close");
  }

  read(): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async command(line: string | null, expect: number[], what: string): Promise<Reply> {
    const reply = this.read();
    if (line !== null) this.socket.write(`${line}\r\n`);
    const r = await reply;
    if (!expect.includes(r.code)) throw new SmtpError(`${what}: the mail server answered ${r.code} ${r.lines.join(" ")}`, r.code);
    return r;
  }
}

function connect(url: URL, timeoutMs: number): Promise<net.Socket | tls.TLSSocket> {
  const implicitTls = url.protocol === "smtps:";
  const port = Number(url.port || (implicitTls ? 465 : 25));
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const socket = implicitTls ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpError(`could not reach the mail server ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(implicitTls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new SmtpError(`could not reach the mail server ${host}:${port}: ${err.message}`));
    });
  });
}

/** Sends one message through the server at `smtpUrl`; throws SmtpError when it is refused. */
export async function sendSmtp(smtpUrl: string, from: string, msg: MailMessage, opts: { timeoutMs?: number } = {}): Promise<void> {
  const url = new URL(smtpUrl);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const data = formatMessage(from, msg);
  const socket = await connect(url, timeoutMs);
  const c = new Conversation(socket, timeoutMs);
  const me = os.hostname().replace(/[^A-Za-z0-9.-]/g, "") || "portal";
  try {
    await c.command(null, [220], "greeting");
    let ehlo = await c.command(`EHLO ${me}`, [250], "EHLO");
    const offersTls = ehlo.lines.some((l) => /^STARTTLS\b/i.test(l));
    if (url.protocol === "smtp:" && offersTls && url.searchParams.get("starttls") !== "off") {
      await c.command("STARTTLS", [220], "STARTTLS");
      c.release();
      const host = url.hostname;
      const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ socket, servername: net.isIP(host) ? undefined : host }, () => resolve(s));
        s.once("error", reject);
      });
      c.attach(secure);
      ehlo = await c.command(`EHLO ${me}`, [250], "EHLO after STARTTLS");
    }
    if (url.username) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      const plain = Buffer.from(`\0${user}\0${pass}`, "utf8").toString("base64");
      await c.command(`AUTH PLAIN ${plain}`, [235], "AUTH");
    }
    await c.command(`MAIL FROM:<${from}>`, [250], "MAIL FROM");
    await c.command(`RCPT TO:<${msg.to}>`, [250, 251], `RCPT TO ${msg.to}`);
    await c.command("DATA", [354], "DATA");
    await c.command(`${data}.`, [250], "message");
    await c.command("QUIT", [221], "QUIT").catch(() => undefined);
  } finally {
    c.release();
    c.socket.destroy();
  }
}
