/**
 * Outgoing mail through nodemailer against the test SMTP server on loopback: plain SMTP and
 * STARTTLS, AUTH PLAIN from the URL, the message intact (dot-stuffing, UTF-8, no header
 * injection), and the server's refusals told apart from what is worth retrying.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transporter } from "nodemailer";
import { createMailer, isRefusal, transportUrl } from "@/lib/mail/transport";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";

let plain: SmtpSink;
let authed: SmtpSink;
let starttls: SmtpSink;
const mailers: Transporter[] = [];

/** A mailer as the portal makes one, closed after the tests. */
function mailer(url: string): Transporter {
  const m = createMailer(url, "portal@uni.example");
  mailers.push(m);
  return m;
}

/** What the send throws (nodemailer's error), or null when it was accepted. */
async function failure(m: Transporter, to: string): Promise<Error | null> {
  return m.sendMail({ to, subject: "hi", text: "x" }).then(() => null, (err: Error) => err);
}

beforeAll(async () => {
  plain = await startSmtpSink(0, { refuse: /^nobody@/ });
  authed = await startSmtpSink(0, { auth: { user: "portal", pass: "s3cret:pw" } });
  starttls = await startSmtpSink(0, { starttls: true });
});

afterAll(async () => {
  for (const m of mailers) m.close();
  await Promise.all([plain.close(), authed.close(), starttls.close()]);
});

describe("SMTP through nodemailer", () => {
  it("delivers over plain SMTP with subject, body and dot-started lines intact; UTF-8 survives", async () => {
    const m = mailer(plain.url);
    await m.sendMail({ to: "ann@uni.example", subject: "Lab", text: "line one\n.starts with a dot\n.\nend" });
    await m.sendMail({ to: "ann@uni.example", subject: "Grüße aus dem Labor", text: "Änderung\nzweite Zeile" });
    const [ascii, utf8] = plain.to("ann@uni.example");
    expect(ascii.from).toBe("portal@uni.example");
    expect(ascii.headers.from).toBe("portal@uni.example");
    expect(ascii.secure).toBe(false);
    // A line that is only "." would end the message early unless it was dot-stuffed.
    expect(ascii.text).toBe("line one\n.starts with a dot\n.\nend");
    expect(utf8.subject).toBe("Grüße aus dem Labor");
    expect(utf8.text).toBe("Änderung\nzweite Zeile");
  });

  it("upgrades with STARTTLS when the server offers it, and checks the server's certificate unless told not to", async () => {
    // The sink's certificate is self-signed: refused by default, like any unknown certificate.
    const strict = await failure(mailer(starttls.url), "bob@uni.example");
    expect(strict?.message).toMatch(/self-signed certificate/);
    expect(starttls.messages).toHaveLength(0);

    await mailer(`${starttls.url}/?tls.rejectUnauthorized=false`).sendMail({ to: "bob@uni.example", subject: "Over TLS", text: "secret" });
    expect(starttls.to("bob@uni.example")).toMatchObject([{ subject: "Over TLS", text: "secret", secure: true }]);
    // requireTLS: a server without STARTTLS is refused rather than sent to in the clear.
    expect((await mailer(`${plain.url}/?requireTLS=true`).sendMail({ to: "c@uni.example", subject: "x", text: "x" }).catch((e: Error) => e))).toBeInstanceOf(Error);
    expect(plain.to("c@uni.example")).toHaveLength(0);
  });

  it("signs in with AUTH PLAIN from the URL (a percent-encoded password); a wrong password is worth retrying (it is configuration), not a refusal", async () => {
    await mailer(`smtp://portal:${encodeURIComponent("s3cret:pw")}@127.0.0.1:${authed.port}`).sendMail({ to: "bob@uni.example", subject: "hi", text: "x" });
    expect(authed.to("bob@uni.example")).toHaveLength(1);
    const wrong = await failure(mailer(`smtp://portal:wrong@127.0.0.1:${authed.port}`), "bob@uni.example");
    expect(wrong?.message).toMatch(/535 5\.7\.8 authentication failed/);
    // The password is not in what would be logged or stored.
    expect(wrong?.message).not.toContain("wrong");
    expect(isRefusal(wrong)).toBe(false);
    expect(authed.to("bob@uni.example")).toHaveLength(1);
  });

  it("tells a refused recipient (no retry helps) from an unreachable server (retried)", async () => {
    const refused = await failure(mailer(plain.url), "nobody@uni.example");
    expect(refused?.message).toMatch(/550 5\.1\.1 <nobody@uni\.example>: no such mailbox/);
    expect(isRefusal(refused)).toBe(true);
    const down = await startSmtpSink(0);
    await down.close();
    const unreachable = await failure(mailer(down.url), "a@uni.example");
    expect(unreachable?.message).toMatch(/ECONNREFUSED/);
    expect(isRefusal(unreachable)).toBe(false);
  });

  it("keeps a subject on one header line: a line break cannot add a header", async () => {
    await mailer(plain.url).sendMail({ to: "dan@uni.example", subject: "x\r\nBcc: all@uni.example", text: "y" });
    const [sent] = plain.to("dan@uni.example");
    expect(sent.headers.bcc).toBeUndefined();
    expect(plain.to("all@uni.example")).toHaveLength(0);
  });

  it("adds the pool and timeouts to SMTP_URL unless its query sets them", () => {
    const url = new URL(transportUrl("smtp://u:p%40ss@mail.example:587/?pool=false"));
    expect(url.searchParams.get("pool")).toBe("false");
    expect(url.searchParams.get("connectionTimeout")).toBe("15000");
    expect(url.password).toBe("p%40ss");
  });
});
