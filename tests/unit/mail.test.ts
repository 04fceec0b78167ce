import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "@/lib/env";
import { sendMail } from "@/lib/mail/send";

describe("e-mail without a mail server", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is skipped with one log line that names the subject and recipient but not the body", async () => {
    expect(env.SMTP_URL).toBeUndefined();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const outcome = await sendMail({ to: "ann@uni.example", subject: "You are invited", text: "secret link /invite/abcdef" });
    expect(outcome).toEqual({ status: "skipped" });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0].join(" ")).toBe('[mail] SMTP_URL is not set: e-mail "You are invited" to ann@uni.example skipped');
    expect(error).not.toHaveBeenCalled();
  });
});
