/**
 * The portal's SMTP client against the test SMTP server on loopback: delivery with the
 * message intact, AUTH PLAIN from the URL, and the server's refusals as readable errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendSmtp } from "@/lib/mail/smtp";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";

let plain: SmtpSink;
let authed: SmtpSink;

beforeAll(async () => {
  plain = await startSmtpSink(2527, { refuse: /^nobody@/ });
  authed = await startSmtpSink(2528, { auth: { user: "portal", pass: "s3cret:pw" } });
});

afterAll(async () => {
  await plain.close();
  await authed.close();
});

describe("SMTP client", () => {
  it("delivers a message with subject, body and dot-stuffed lines intact", async () => {
    await sendSmtp(plain.url, "portal@uni.example", { to: "ann@uni.example", subject: "Lab", text: "line one\n.starts with a dot\n.\nend" });
    await sendSmtp(plain.url, "portal@uni.example", { to: "ann@uni.example", subject: "Grüße", text: "Änderung\nzweite Zeile" });
    const [ascii, utf8] = plain.to("ann@uni.example");
    expect(ascii.from).toBe("portal@uni.example");
    // A line that is only "." would end the message early unless the client dot-stuffed it.
    expect(ascii.text).toBe("line one\n.starts with a dot\n.\nend");
    expect(utf8.subject).toBe("Grüße");
    expect(utf8.text).toBe("Änderung\nzweite Zeile");
  });

  it("signs in with AUTH PLAIN from the URL (percent-encoded password)", async () => {
    await sendSmtp(`smtp://portal:${encodeURIComponent("s3cret:pw")}@127.0.0.1:2528`, "portal@uni.example", { to: "bob@uni.example", subject: "hi", text: "x" });
    expect(authed.to("bob@uni.example")).toHaveLength(1);
    await expect(sendSmtp("smtp://portal:wrong@127.0.0.1:2528", "portal@uni.example", { to: "bob@uni.example", subject: "hi", text: "x" })).rejects.toThrow(
      "AUTH: the mail server answered 535 5.7.8 authentication failed",
    );
    await expect(sendSmtp(authed.url, "portal@uni.example", { to: "bob@uni.example", subject: "hi", text: "x" })).rejects.toThrow(/MAIL FROM: the mail server answered 530/);
  });

  it("reports a refused recipient and an unreachable server in words", async () => {
    await expect(sendSmtp(plain.url, "portal@uni.example", { to: "nobody@uni.example", subject: "hi", text: "x" })).rejects.toThrow(
      "RCPT TO nobody@uni.example: the mail server answered 550 5.1.1 <nobody@uni.example>: no such mailbox",
    );
    await expect(sendSmtp("smtp://127.0.0.1:2529", "portal@uni.example", { to: "a@uni.example", subject: "hi", text: "x" })).rejects.toThrow(
      /could not reach the mail server 127\.0\.0\.1:2529/,
    );
  });
});
