import { afterEach, describe, expect, it, vi } from "vitest";
import type { Db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { queueMail } from "@/lib/mail/outbox";
import { mailText } from "@/lib/notifications/queries";

describe("e-mail without a mail server", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is not queued at all, with one log line for the process that names no recipient or body", async () => {
    expect(env.SMTP_URL).toBeUndefined();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    // Any use of the database would throw: nothing is written.
    const db = new Proxy({}, { get: () => { throw new Error("the outbox was written"); } }) as Db;
    const mail = { userId: "00000000-0000-4000-8000-000000000001", kind: "invitation", to: "ann@uni.example", subject: "You are invited", text: "secret link /invite/abcdef" };
    expect(await queueMail(db, [mail])).toEqual([]);
    expect(await queueMail(db, [mail, mail])).toEqual([]);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0].join(" ")).toBe("[mail] SMTP_URL is not set: the portal sends no e-mail (notifications stay in the app)");
  });
});

describe("the e-mail copy of a notification", () => {
  it("greets by name, says what happened and links to the order", () => {
    expect(mailText("Ann Lee", "Rejected by bob@uni.example: no budget", "/orders/42")).toBe(
      "Hello Ann Lee,\n\nRejected by bob@uni.example: no budget\n\n/orders/42\n\n-- The environment portal\n",
    );
    expect(mailText("Ann Lee", "News", null)).toBe("Hello Ann Lee,\n\nNews\n\n-- The environment portal\n");
  });
});
