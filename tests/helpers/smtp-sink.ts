/**
 * A tiny SMTP server on node:net that accepts every message and records it: the mail server
 * the tests send to (SMTP_URL=smtp://127.0.0.1:<port>). It speaks enough of RFC 5321 for
 * nodemailer: EHLO/HELO, STARTTLS (with a self-signed certificate, when asked for), AUTH
 * PLAIN, MAIL, RCPT, DATA (dot-unstuffing), RSET, NOOP, QUIT; and reads the MIME nodemailer
 * writes (folded headers, encoded words, quoted-printable and base64 bodies).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";

export type SunkMessage = {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  text: string;
  /** Whether the message came over TLS (after STARTTLS). */
  secure: boolean;
};

export type SinkOptions = {
  /** Offer AUTH PLAIN and refuse mail until the client signed in with these. */
  auth?: { user: string; pass: string };
  /** Recipients the server refuses (550), like an unknown mailbox. */
  refuse?: RegExp;
  /** Offer STARTTLS, with a self-signed certificate for 127.0.0.1. */
  starttls?: boolean;
};

export type SmtpSink = {
  port: number;
  url: string;
  messages: SunkMessage[];
  /** Messages to `to` (every message when omitted). */
  to: (address: string) => SunkMessage[];
  close: () => Promise<void>;
};

let certificate: { key: string; cert: string } | undefined;

/** A self-signed certificate for 127.0.0.1, made once per test process with openssl. */
function selfSigned(): { key: string; cert: string } {
  if (certificate) return certificate;
  const dir = mkdtempSync(path.join(os.tmpdir(), "smtp-sink-"));
  try {
    const made = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    certificate = { key: readFileSync(path.join(dir, "key.pem"), "utf8"), cert: readFileSync(path.join(dir, "cert.pem"), "utf8") };
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes written as text: quoted-printable's =XX escapes (soft line breaks removed) or base64. */
function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding === "base64") return Buffer.from(body.replace(/\r\n/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const joined = body.replace(/=\r\n/g, "");
    const bytes: number[] = [];
    for (let i = 0; i < joined.length; i++) {
      const hex = joined.slice(i + 1, i + 3);
      if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(joined[i], "utf8"));
    }
    return Buffer.from(bytes).toString("utf8").replace(/\r\n/g, "\n");
  }
  return body.replace(/\r\n/g, "\n");
}

/** RFC 2047 encoded words (B and Q) as text; the space between two encoded words goes. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_, kind: string, data: string) =>
      kind.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : decodeBody(data.replace(/_/g, " "), "quoted-printable"),
    );
}

function parse(from: string, to: string[], raw: string, secure: boolean): SunkMessage {
  const split = raw.indexOf("\r\n\r\n");
  // Folded header lines continue on lines that start with white space.
  const head = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, "");
  const body = raw.slice(split + 4).replace(/\r\n$/, "");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const text = decodeBody(body, headers["content-transfer-encoding"]?.toLowerCase());
  return { from, to, raw, headers, subject: decodeWords(headers.subject ?? ""), text, secure };
}

/** Starts the sink on 127.0.0.1:`port` (0: any free port; `port` of the result says which). */
export async function startSmtpSink(port: number, opts: SinkOptions = {}): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const sockets = new Set<net.Socket>();
  const credentials = opts.starttls ? tls.createSecureContext(selfSigned()) : null;

  /** One SMTP session on `socket`; STARTTLS starts a new one on the TLS socket (RFC 3207: state reset). */
  function session(socket: net.Socket, secure: boolean) {
    let buffer = "";
    let from = "";
    let to: string[] = [];
    let inData = false;
    let signedIn = !opts.auth;
    let data: string[] = [];
    const say = (line: string) => socket.write(`${line}\r\n`);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let i: number;
      while ((i = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            messages.push(parse(from, to, data.join("\r\n") + "\r\n", secure));
            data = [];
            say("250 2.0.0 queued");
          } else data.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const verb = line.split(" ")[0].toUpperCase();
        if (verb === "EHLO") {
          say("250-smtp-sink");
          if (credentials && !secure) say("250-STARTTLS");
          if (opts.auth) say("250-AUTH PLAIN");
          say("250 8BITMIME");
        } else if (verb === "STARTTLS" && credentials && !secure) {
          say("220 2.0.0 ready to start TLS");
          socket.off("data", onData);
          const upgraded = new tls.TLSSocket(socket, { isServer: true, secureContext: credentials });
          upgraded.on("error", () => socket.destroy());
          session(upgraded, true);
          return;
        } else if (verb === "AUTH") {
          const [, mech, b64] = line.split(" ");
          const [, user, pass] = Buffer.from(b64 ?? "", "base64").toString("utf8").split("\0");
          if (mech === "PLAIN" && opts.auth && user === opts.auth.user && pass === opts.auth.pass) {
            signedIn = true;
            say("235 2.7.0 authenticated");
          } else say("535 5.7.8 authentication failed");
        } else if (verb === "HELO") say("250 smtp-sink");
        else if (verb === "MAIL") {
          if (!signedIn) {
            say("530 5.7.0 authentication required");
            continue;
          }
          from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          to = [];
          say("250 2.1.0 ok");
        } else if (verb === "RCPT") {
          const rcpt = /<([^>]*)>/.exec(line)?.[1] ?? "";
          if (opts.refuse?.test(rcpt)) {
            say(`550 5.1.1 <${rcpt}>: no such mailbox`);
            continue;
          }
          to.push(rcpt);
          say("250 2.1.5 ok");
        } else if (verb === "DATA") {
          if (!from || to.length === 0) say("503 5.5.1 need MAIL and RCPT first");
          else {
            inData = true;
            say("354 end with <CRLF>.<CRLF>");
          }
        } else if (verb === "RSET") {
          from = "";
          to = [];
          say("250 ok");
        } else if (verb === "NOOP") say("250 ok");
        else if (verb === "QUIT") {
          say("221 bye");
          socket.end();
        } else say("502 5.5.2 command not implemented");
      }
    };
    socket.on("data", onData);
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write("220 smtp-sink ESMTP ready\r\n");
    session(socket, false);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  // Port 0: the system chose one.
  const bound = (server.address() as net.AddressInfo).port;
  return {
    port: bound,
    url: `smtp://127.0.0.1:${bound}`,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(address)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
