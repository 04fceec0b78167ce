/** Sign-in with e-mail and password (what next-auth's credentials provider calls), its rate limit, and API tokens at rest. */
import { describe, expect, it } from "vitest";
import { desc, eq } from "drizzle-orm";
import { authOptions } from "@/lib/auth/options";
import { signInErrors } from "@/lib/auth/sign-in-errors";
import { PEER_HEADER } from "@/lib/http/client-address";
import { createApiToken, hashToken, userForToken } from "@/lib/auth/tokens";
import { apiTokens, auditEvents, users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { bootPortal, makeUser } from "../helpers/portal";

const { db, admin } = await bootPortal();
const TOO_MANY_ATTEMPTS = signInErrors["too-many-account"];
const TOO_MANY_FROM_ADDRESS = signInErrors["too-many-address"];

type Authorize = (credentials: Record<string, string> | undefined, req: unknown) => Promise<{ id: string; email: string; role: string } | null>;
const authorize = (authOptions.providers[0] as unknown as { options: { authorize: Authorize } }).options.authorize;
const signIn = (email: string, password: string) => authorize({ email, password }, {});

describe("sign-in with e-mail and password", () => {
  it("the first admin signs in with ADMIN_PASSWORD, whatever the case of the e-mail; the sign-in is audited", async () => {
    const user = await signIn(env.ADMIN_EMAIL.toUpperCase(), env.ADMIN_PASSWORD!);
    expect(user).toMatchObject({ id: admin.id, email: env.ADMIN_EMAIL, role: "admin" });
    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, admin.id));
    expect(audit.find((a) => a.action === "auth.sign_in")?.data).toEqual({ method: "local" });
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

describe("sign-in limit per client address", () => {
  // The portal's server writes the connection's address into PEER_HEADER (lib/http/peer-address.ts).
  const fromAddress = (address: string) => ({ headers: { [PEER_HEADER]: address, "x-forwarded-for": "192.0.2.200" } });
  const signInFrom = (address: string, email: string, password: string) => authorize({ email, password }, fromAddress(address));

  it(`stops one address trying passwords on many accounts after ${env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS} failures, with its own message, on record`, async () => {
    const address = "203.0.113.41";
    const victim = await makeUser(db, "customer", "default");
    const mine = await makeUser(db, "customer", "default");
    // Spraying: each account gets one try, far below the per-account limit.
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS - 1; i++) expect(await signInFrom(address, `sprayed-${i}@portal.test`, "Summer2026!")).toBeNull();
    // Signing in to one's own account does not reset the address's count.
    expect(await signInFrom(address, mine.email, "password-for-tests")).toMatchObject({ id: mine.id });
    expect(await signInFrom(address, victim.email, "Summer2026!")).toBeNull();

    await expect(signInFrom(address, victim.email, "password-for-tests")).rejects.toThrow(TOO_MANY_FROM_ADDRESS);
    await expect(signInFrom(address, mine.email, "password-for-tests")).rejects.toThrow(TOO_MANY_FROM_ADDRESS);
    // The accounts themselves are not locked: from another address they sign in.
    expect(await signInFrom("203.0.113.42", victim.email, "password-for-tests")).toMatchObject({ id: victim.id });

    const [blocked] = await db.select().from(auditEvents).where(eq(auditEvents.action, "auth.sign_in_blocked")).orderBy(desc(auditEvents.id)).limit(1);
    expect(blocked).toMatchObject({ actorId: null, data: { method: "local", account: mine.email, limit: "address" } });
  });

  it("counts an IPv6 client by its /64, which one host can pick addresses from at will", async () => {
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS; i++) expect(await signInFrom(`2001:db8:77:1::${(i + 1).toString(16)}`, `v6-${i}@portal.test`, "guess")).toBeNull();
    const someone = await makeUser(db, "customer", "default");
    await expect(signInFrom("2001:db8:77:1:abcd::1", someone.email, "password-for-tests")).rejects.toThrow(TOO_MANY_FROM_ADDRESS);
    expect(await signInFrom("2001:db8:77:2::1", someone.email, "password-for-tests")).toMatchObject({ id: someone.id });
  });

  it("says which limit it is when the account is the one locked", async () => {
    const someone = await makeUser(db, "student", "default");
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS; i++) await signInFrom(`198.51.100.${i + 1}`, someone.email, "wrong");
    await expect(signInFrom("198.51.100.250", someone.email, "password-for-tests")).rejects.toThrow(TOO_MANY_ATTEMPTS);
    const [blocked] = await db.select().from(auditEvents).where(eq(auditEvents.action, "auth.sign_in_blocked")).orderBy(desc(auditEvents.id)).limit(1);
    expect(blocked.data).toEqual({ method: "local", account: someone.email, limit: "account" });
  });
});

describe("sessions", () => {
  type Callbacks = {
    session: (p: { session: Record<string, unknown>; token: Record<string, unknown> }) => Promise<Record<string, unknown>>;
  };
  const callbacks = authOptions.callbacks as unknown as Callbacks;
  const signOut = authOptions.events!.signOut! as (m: { token: Record<string, unknown> }) => Promise<void>;
  const sessionOf = (token: Record<string, unknown>) => callbacks.session({ session: { user: { name: "stale", email: "stale@x" }, expires: "2099-01-01T00:00:00.000Z" }, token });

  async function tokenOf(email: string) {
    const u = (await signIn(email, "password-for-tests")) as unknown as { id: string; role: string; sv: number };
    return { uid: u.id, role: u.role, sv: u.sv };
  }

  it("give the user as the database has it now, and nothing once the user signed out", async () => {
    const someone = await makeUser(db, "customer", "default");
    const token = await tokenOf(someone.email);
    await db.update(users).set({ role: "approver", name: "Renamed" }).where(eq(users.id, someone.id));
    expect(await sessionOf(token)).toMatchObject({ uid: someone.id, role: "approver", user: { name: "Renamed", email: someone.email } });

    await signOut({ token });
    // What GET /api/auth/session answers for the old cookie: the same as for no cookie.
    expect(await sessionOf(token)).toEqual({});
    // Signing in again gives a new session that works, and the old one stays void.
    const again = await tokenOf(someone.email);
    expect(await sessionOf(again)).toMatchObject({ uid: someone.id });
    expect(await sessionOf(token)).toEqual({});
  });

  it("give nothing for a disabled user, a deleted one, or a token without a session version", async () => {
    const someone = await makeUser(db, "customer", "default");
    const token = await tokenOf(someone.email);
    expect(await sessionOf({ uid: someone.id, role: "customer" })).toEqual({});
    await db.update(users).set({ disabled: true }).where(eq(users.id, someone.id));
    expect(await sessionOf(token)).toEqual({});
    expect(await sessionOf({ ...token, uid: "00000000-0000-4000-8000-000000000000" })).toEqual({});
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
