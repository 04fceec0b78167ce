import { eq } from "drizzle-orm";
import { getDb } from "../db/client";
import { users, type AuthSource, type Role } from "../db/schema";
import { sourceOf, writeAudit, type AuditSource } from "../audit/write";
import { clientAddress } from "../http/client-address";
import { verifyPassword } from "./password";
import { clearLoginFailures, loginBlocked, recordLoginFailure } from "./rate-limit";
import { authenticateLdap, DirectoryUnavailable, type LdapConfig } from "./ldap";
import { signInExternal, type ExternalSignIn } from "./directory-users";
import { localAdminsOnly } from "./sign-in-settings";
import { signInErrors, type SignInErrorCode } from "./sign-in-errors";
import type { OidcUser } from "./oidc";

/**
 * The three ways in (a local password, a directory account, single sign-on) under the same
 * rules: failed attempts counted per account and per client address and refused past the
 * limit (lib/auth/rate-limit.ts), and every attempt audited with its method.
 */

/** What next-auth keeps of a signed-in user in the session token (options.ts, jwt callback). */
export type SignedIn = { id: string; email: string; name: string; role: Role; sv: number; method: AuthSource };

type Headers = Record<string, unknown> | undefined;

/** A refusal whose message the sign-in form shows (next-auth passes a thrown error's message on). */
export class SignInRefused extends Error {
  constructor(public readonly code: SignInErrorCode) {
    super(signInErrors[code]);
    this.name = "SignInRefused";
  }
}

type Attempt = { method: AuthSource; account: string; source: AuditSource; address: string | null };

function attempt(method: AuthSource, account: string, headers: Headers): Attempt {
  return { method, account, source: sourceOf(headers), address: clientAddress(headers) };
}

/** Refuses before any password is checked when the account or the address is over its limit. */
async function checkLimits(a: Attempt): Promise<void> {
  const blocked = await loginBlocked(a.account, a.address);
  if (!blocked) return;
  await writeAudit(await getDb(), { actorId: null, action: "auth.sign_in_blocked", targetType: "user", data: { method: a.method, account: a.account, limit: blocked }, source: a.source });
  throw new SignInRefused(blocked === "address" ? "too-many-address" : "too-many-account");
}

async function failed(a: Attempt, reason: string, userId: string | null = null): Promise<null> {
  await recordLoginFailure(a.account, a.address);
  await writeAudit(await getDb(), { actorId: null, action: "auth.sign_in_failed", targetType: "user", targetId: userId, data: { method: a.method, account: a.account, reason }, source: a.source });
  return null;
}

/** A directory or single sign-on user signed in (and created or updated), or the refusal. */
async function admitted(a: Attempt, outcome: ExternalSignIn): Promise<SignedIn> {
  if (!outcome.ok) throw new SignInRefused(outcome.refusal);
  await clearLoginFailures(a.account);
  const u = outcome.user;
  return { id: u.id, email: u.email, name: u.name, role: u.role, sv: u.sessionVersion, method: a.method };
}

/** A local account: e-mail and the password kept (hashed) by the portal. */
export async function localSignIn(email: string, password: string, headers: Headers): Promise<SignedIn | null> {
  if (!email || !password) return null;
  const a = attempt("local", email, headers);
  await checkLimits(a);
  const db = await getDb();
  const [user] = await db.select().from(users).where(eq(users.email, email));
  if (!user || user.disabled || !(await verifyPassword(password, user.passwordHash))) return failed(a, !user ? "unknown user" : user.disabled ? "account disabled" : "wrong password", user?.id);
  if (user.role !== "admin" && (await localAdminsOnly(db))) {
    await writeAudit(db, { actorId: null, action: "auth.sign_in_refused", targetType: "user", targetId: user.id, data: { method: "local", account: email, reason: "local sign-in is for admins only" }, source: a.source });
    throw new SignInRefused("local-admins-only");
  }
  await clearLoginFailures(email);
  await writeAudit(db, { actorId: user.id, action: "auth.sign_in", targetType: "user", targetId: user.id, data: { method: "local" }, source: a.source });
  return { id: user.id, email: user.email, name: user.name, role: user.role, sv: user.sessionVersion, method: "local" };
}

/** A directory account: the login (uid, e-mail, sAMAccountName: what the filter takes) and its password. */
export async function directorySignIn(config: LdapConfig, login: string, password: string, headers: Headers): Promise<SignedIn | null> {
  if (!login || !password) return null;
  const a = attempt("ldap", login.toLowerCase(), headers);
  await checkLimits(a);
  let answer;
  try {
    answer = await authenticateLdap(config, login, password);
  } catch (err) {
    if (!(err instanceof DirectoryUnavailable)) throw err;
    console.error(`[auth] ${err.message}`);
    await writeAudit(await getDb(), { actorId: null, action: "auth.sign_in_failed", targetType: "user", data: { method: "ldap", account: a.account, reason: "directory unavailable" }, source: a.source });
    throw new SignInRefused("directory-down");
  }
  if (!answer.ok) {
    if (answer.reason === "no e-mail") {
      await writeAudit(await getDb(), { actorId: null, action: "auth.sign_in_refused", targetType: "user", data: { method: "ldap", account: a.account, reason: "no e-mail in the directory" }, source: a.source });
      throw new SignInRefused("directory-no-email");
    }
    return failed(a, answer.reason);
  }
  const { dn, email, name, groups } = answer.account;
  return admitted(a, await signInExternal(await getDb(), { method: "ldap", externalId: dn, email, name, groups }));
}

/**
 * Single sign-on, once the identity provider has vouched for the user (next-auth checked the
 * code, PKCE, state, nonce and the ID token): the portal's limits, then the user created or
 * updated. Resolves the portal's user, or a refusal code for /login?error=.
 */
export async function oidcSignIn(profile: OidcUser, headers: Headers): Promise<SignedIn | SignInErrorCode> {
  if (!profile.email || !profile.emailVerified) {
    await writeAudit(await getDb(), { actorId: null, action: "auth.sign_in_refused", targetType: "user", data: { method: "oidc", account: profile.email, subject: profile.id, reason: "no verified e-mail" }, source: sourceOf(headers) });
    return "oidc-no-email";
  }
  const a = attempt("oidc", profile.email, headers);
  try {
    await checkLimits(a);
    return await admitted(a, await signInExternal(await getDb(), { method: "oidc", externalId: profile.id, email: profile.email, name: profile.name ?? profile.email, groups: profile.groups }));
  } catch (err) {
    if (err instanceof SignInRefused) return err.code;
    throw err;
  }
}
