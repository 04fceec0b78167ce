/** Sign-in with e-mail and password (what next-auth's credentials provider calls), its rate limit, and API tokens at rest. */
import { describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { authOptions, TOO_MANY_ATTEMPTS } from "@/lib/auth/options";
import { createApiToken, hashToken, userForToken } from "@/lib/auth/tokens";
import { apiTokens, auditEvents, users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { bootPortal, makeUser } from "../helpers/portal";

const { db, admin } = await bootPortal();

type Authorize = (credentials: Record<string, string> | undefined, req: unknown) => Promise<{ id: string; email: string; role: string } | null>;
const authorize = (authOptions.providers[0] as unknown as { options: { authorize: Authorize } }).options.authorize;
const signIn = (email: string, password: string) => authorize({ email, password }, {});

describe("sign-in with e-mail and password", () => {
  it("the first admin signs in with ADMIN_PASSWORD, whatever the case of the e-mail; the sign-in is audited", async () => {
    const user = await signIn(env.ADMIN_EMAIL.toUpperCase(), env.ADMIN_PASSWORD!);
    expect(user).toMatchObject({ id: admin.id, email: env.ADMIN_EMAIL, role: "admin" });
    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, admin.id));
    expect(audit.map((a) => a.action)).toContain("auth.sign_in");
  });

  it("refuses a wrong password, an unknown e-mail, empty fields and a disabled user", async () => {
    const someone = await makeUser(db, "customer", "default");
    expect(await signIn(someone.email, "password-for-tests")).toMatchObject({ id: someone.id });
    expect(await signIn(someone.email, "password-for-test")).toBeNull();
    expect(await signIn("nobody@portal.test", "password-for-tests")).toBeNull();
    expect(await signIn("", "")).toBeNull();
    await db.update(users).set({ disabled: true }).where(eq(users.id, someone.id));
    expect(await signIn(someone.email, "password-for-tests")).toBeNull();
  });

  it(`blocks an account after ${env.LOGIN_MAX_ATTEMPTS} failed sign-ins, even with the right password`, async () => {
    const someone = await makeUser(db, "student", "default");
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS; i++) expect(await signIn(someone.email, `wrong-${i}`)).toBeNull();
    await expect(signIn(someone.email, "password-for-tests")).rejects.toThrow(TOO_MANY_ATTEMPTS);
    // Other accounts are not affected.
    const other = await makeUser(db, "student", "default");
    expect(await signIn(other.email, "password-for-tests")).toMatchObject({ id: other.id });
  });

  it("a successful sign-in clears earlier failures", async () => {
    const someone = await makeUser(db, "customer", "default");
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS - 1; i++) await signIn(someone.email, "wrong");
    expect(await signIn(someone.email, "password-for-tests")).not.toBeNull();
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS - 1; i++) await signIn(someone.email, "wrong");
    expect(await signIn(someone.email, "password-for-tests")).not.toBeNull();
  });
});

describe("API tokens", () => {
  it("are stored as a hash with a short prefix, never in clear", async () => {
    const created = await createApiToken(db, admin.id, "deploy script");
    expect(created.token).toMatch(/^ptk_[A-Za-z0-9_-]{43}$/);
    const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row.tokenHash).toBe(hashToken(created.token));
    expect(row.tokenHash).not.toContain(created.token.slice(4));
    expect(row.prefix).toBe(created.token.slice(0, 10));
    expect(row.lastUsedAt).toBeNull();

    expect(await userForToken(db, created.token)).toMatchObject({ id: admin.id });
    const [used] = await db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(used.lastUsedAt).not.toBeNull();
    expect(await userForToken(db, created.token.slice(0, -1))).toBeNull();
    expect(await userForToken(db, row.tokenHash)).toBeNull(); // the stored hash is not a credential
  });
});
