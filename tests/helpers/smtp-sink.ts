/**
 * A tiny SMTP server on node:net that accepts every message and records it: the mail server
 * the tests send to (SMTP_URL=smtp://127.0.0.1:<port>). It speaks enough of RFC 5321 for the
 * portal's client: EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffing), RSET, NOOP, QUIT.
 */
import net from "node:net";

export type SunkMessage = { from: string; to: string[]; raw: string; headers: Record<string, string>; subject: string; text: string };

export type SinkOptions = {
  /** Offer AUTH PLAIN and refuse mail until the client signed in with these. */
  auth?: { user: string; pass: string };
  /** Recipients the server refuses (550), like an unknown mailbox. */
  refuse?: RegExp;
};

export type SmtpSink = {
  port: number;
  url: string;
  messages: SunkMessage[];
  /** Messages to `to` (every message when omitted). */
  to: (address: string) => SunkMessage[];
  close: () => Promise<void>;
};

function decodeWord(value: string): string {
  return value.replace(/=\?UTF-8\?B\?([^?]+)\?=/gi, (_, b64: string) => Buffer.from(b64, "base64").toString("utf8"));
}

function parse(from: string, to: string[], raw: string): SunkMessage {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4).replace(/\r\n$/, "");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const text = headers["content-transfer-encoding"] === "base64" ? Buffer.from(body.replace(/\r\n/g, ""), "base64").toString("utf8") : body.replace(/\r\n/g, "\n");
  return { from, to, raw, headers, subject: decodeWord(headers.subject ?? ""), text };
}

export async function startSmtpSink(port: number, opts: SinkOptions = {}): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = "";
    let from = "";
    let to: string[] = [];
    let inData = false;
    let signedIn = !opts.auth;
    let data: string[] = [];
    const say = (line: string) => socket.write(`${line}\r\n`);
    say("220 smtp-sink ESMTP ready");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let i: number;
      while ((i = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            messages.push(parse(from, to, data.join("\r\n") + "\r\n"));
            data = [];
            say("250 2.0.0 queued");
          } else data.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") {
          say("250-smtp-sink");
          if (opts.auth) say("250-AUTH PLAIN");
          say("250 8BITMIME");
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
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(address)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
