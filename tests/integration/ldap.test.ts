/**
 * Sign-in with directory accounts against a real OpenLDAP (Debian's slapd on loopback, ports
 * 3381 ldap:// and 3382 ldaps://), loaded with an organisation, people and groups
 * (tests/fixtures/lab-directory.ts). The portal is configured for it like a site would be
 * (LDAP_* below) and signs in through next-auth's provider, as the sign-in page does.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { and, desc, eq, inArray } from "drizzle-orm";

vi.hoisted(() => {
  Object.assign(process.env, {
    LDAP_URL: "ldap://127.0.0.1:3381",
    LDAP_BIND_DN: "cn=portal,ou=services,dc=lab,dc=example",
    LDAP_BIND_PASSWORD: "portal-service-password",
    LDAP_USER_BASE: "ou=people,dc=lab,dc=example",
    LDAP_GROUP_BASE: "ou=groups,dc=lab,dc=example",
    LOGIN_MAX_ATTEMPTS: "4",
  });
});

import { authOptions, LDAP_PROVIDER_ID, userOfSession, type PortalSession } from "@/lib/auth/options";
import { directorySignIn, SignInRefused, type SignedIn } from "@/lib/auth/sign-in";
import { ldapConfigFromEnv, type LdapConfig } from "@/lib/auth/ldap";
import { createSignInRule } from "@/lib/auth/sign-in-rules";
import { setSignInSettings } from "@/lib/auth/sign-in-settings";
import { signInErrors } from "@/lib/auth/sign-in-errors";
import { createApiToken, userForToken } from "@/lib/auth/tokens";
import { auditEvents, memberships, users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { PEER_HEADER } from "@/lib/http/client-address";
import { startSlapd, type RunningSlapd } from "../helpers/slapd";
import { LAB_SUFFIX, labDirectoryLdif, labGroupDn, labPeople, labUserDn } from "../fixtures/lab-directory";
import { bootPortal, makeGroup, makeUser } from "../helpers/portal";

const { db, admin } = await bootPortal();
const physics = await makeGroup(db, { autoApprove: false, slug: "physics" });
const elsewhere = await makeGroup(db, { autoApprove: false, slug: "elsewhere" });
await createSignInRule(db, admin, { match: labGroupDn("lab-admins"), role: "admin" });
// Written as an Active Directory admin might copy it: other case, spaces after the commas.
await createSignInRule(db, admin, { match: "CN=Physics, OU=Groups, DC=lab, DC=example", role: "customer", group: "physics" });

type Authorize = (credentials: Record<string, string>, req: unknown) => Promise<SignedIn | null>;
const provider = (id: string) => authOptions.providers.find((p) => (p as { options?: { id?: string } }).options?.id === id || p.id === id);
const authorize = (provider(LDAP_PROVIDER_ID) as unknown as { options: { authorize: Authorize } }).options.authorize;
const localAuthorize = (provider("credentials") as unknown as { options: { authorize: Authorize } }).options.authorize;
let address = 1;
/** Each sign-in from its own address unless told: the per-address limit stays out of the way. */
const from = (ip = `198.51.100.${address++}`) => ({ headers: { [PEER_HEADER]: ip } });
const signIn = (login: string, password: string, ip?: string) => authorize({ login, password }, from(ip));

let slapd: RunningSlapd;
const config = ldapConfigFromEnv()!;

beforeAll(async () => {
  const lookalike = { uid: "mallory", name: "Mallory", mail: env.ADMIN_EMAIL, password: "mallory-password-1", groups: ["lab-admins"] };
  slapd = await startSlapd({ port: 3381, ldapsPort: 3382, suffix: LAB_SUFFIX, ldif: labDirectoryLdif([lookalike]) });
});
afterAll(async () => {
  await slapd?.stop();
});

async function userByEmail(email: string) {
  const [u] = await db.select().from(users).where(eq(users.email, email));
  return u;
}

async function groupsOf(userId: string) {
  return db.select({ groupId: memberships.groupId, role: memberships.role }).from(memberships).where(eq(memberships.userId, userId));
}

async function lastAudit(action: string) {
  const [row] = await db.select().from(auditEvents).where(eq(auditEvents.action, action)).orderBy(desc(auditEvents.id)).limit(1);
  return row;
}

describe("directory sign-in", () => {
  it("creates the portal user at the first sign-in, by uid or e-mail, with the directory's e-mail and name and the rules' role and groups", async () => {
    const alice = await signIn("alice", labPeople.alice.password);
    expect(alice).toMatchObject({ email: "alice@lab.example", name: "Alice Admin", role: "admin", method: "ldap" });
    const row = await userByEmail("alice@lab.example");
    expect(row).toMatchObject({ authSource: "ldap", externalId: labUserDn("alice"), noAccess: false, role: "admin" });
    expect(row.directoryGroups.sort()).toEqual([labGroupDn("lab-admins"), labGroupDn("physics")]);
    expect(await groupsOf(row.id)).toEqual([{ groupId: physics.id, role: "customer" }]);
    const audit = await lastAudit("auth.sign_in");
    expect(audit).toMatchObject({ actorId: row.id, data: { method: "ldap", created: true, noAccess: false } });
    expect(audit.after).toEqual({ role: "admin", noAccess: false, groups: ["physics (customer)"] });

    // By e-mail (the default filter takes uid or mail), whatever its case: the same user.
    const bob = await signIn("BOB@lab.example", labPeople.bob.password);
    expect(bob).toMatchObject({ email: "bob@lab.example", role: "customer" });
    expect(await signIn("bob", labPeople.bob.password)).toMatchObject({ id: bob!.id });
    const [again] = await db.select({ data: auditEvents.data }).from(auditEvents).where(and(eq(auditEvents.action, "auth.sign_in"), eq(auditEvents.targetId, bob!.id))).orderBy(desc(auditEvents.id)).limit(1);
    expect(again.data).toMatchObject({ method: "ldap", created: false });
    // The account has no password of its own: the local form does not open it.
    expect(await localAuthorize({ email: "bob@lab.example", password: labPeople.bob.password }, from())).toBeNull();
  });

  it("refuses a wrong password, an unknown user and a login that tries to be a filter, and audits each with the method", async () => {
    expect(await signIn("bob", "not-his-password")).toBeNull();
    expect(await lastAudit("auth.sign_in_failed")).toMatchObject({ actorId: null, data: { method: "ldap", account: "bob", reason: "wrong password" } });
    expect(await signIn("zoe", "whatever-password")).toBeNull();
    expect((await lastAudit("auth.sign_in_failed")).data).toEqual({ method: "ldap", account: "zoe", reason: "unknown user" });
    // Escaped before it reaches the filter: "*" is not "anybody".
    expect(await signIn("*", labPeople.bob.password)).toBeNull();
    expect(await signIn("bob)(uid=*", labPeople.bob.password)).toBeNull();
    expect(await signIn("bob", "")).toBeNull();
  });

  it(`locks an account after ${env.LOGIN_MAX_ATTEMPTS} failed sign-ins, even with the right password, and one address spraying many accounts`, async () => {
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS; i++) expect(await signIn("alice", `wrong-${i}`)).toBeNull();
    await expect(signIn("alice", labPeople.alice.password)).rejects.toThrow(signInErrors["too-many-account"]);
    expect(await lastAudit("auth.sign_in_blocked")).toMatchObject({ data: { method: "ldap", account: "alice", limit: "account" } });

    const sprayer = "203.0.113.77";
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS; i++) await signIn(`sprayed-${i}`, "Summer2026!", sprayer);
    await expect(signIn("carol", labPeople.carol.password, sprayer)).rejects.toThrow(signInErrors["too-many-address"]);
    expect(await signIn("carol", labPeople.carol.password)).not.toBeNull();
  });

  it("signs in a user whose groups map to nothing with no access: the session opens nothing, says which groups she has, and her tokens stop working", async () => {
    const carol = (await signIn("carol", labPeople.carol.password))!;
    expect(carol).not.toBeNull();
    const row = await userByEmail("carol@lab.example");
    expect(row).toMatchObject({ noAccess: true, directoryGroups: [labGroupDn("chemistry")] });
    expect(await groupsOf(row.id)).toEqual([]);

    type Callbacks = { jwt: (p: object) => Promise<Record<string, unknown>>; session: (p: object) => Promise<PortalSession> };
    const callbacks = authOptions.callbacks as unknown as Callbacks;
    const token = await callbacks.jwt({ token: {}, user: carol });
    const session = await callbacks.session({ session: { user: {}, expires: "2099-01-01T00:00:00.000Z" }, token });
    expect(session).toMatchObject({ user: { email: "carol@lab.example", name: "Carol Chemist" }, noAccess: { groups: [labGroupDn("chemistry")], method: "ldap" } });
    expect(userOfSession(session)).toBeNull();

    const { token: apiToken } = await createApiToken(db, row.id, "from before");
    expect(await userForToken(db, apiToken)).toBeNull();
  });

  it("takes a group change in the directory at the next sign-in: a role given, a role and a membership taken away; memberships no rule names stay", async () => {
    const bob = (await userByEmail("bob@lab.example"))!;
    await db.insert(memberships).values({ userId: bob.id, groupId: elsewhere.id, role: "customer" });

    await slapd.modify(`dn: ${labGroupDn("physics")}\nchangetype: modify\nadd: member\nmember: ${labUserDn("carol")}\n-\ndelete: member\nmember: ${labUserDn("bob")}\n`);

    expect(await signIn("carol", labPeople.carol.password)).toMatchObject({ role: "customer" });
    const carol = await userByEmail("carol@lab.example");
    expect(carol.noAccess).toBe(false);
    expect(await groupsOf(carol.id)).toEqual([{ groupId: physics.id, role: "customer" }]);
    expect(await lastAudit("auth.sign_in")).toMatchObject({ before: { noAccess: true, groups: [] }, after: { role: "customer", noAccess: false, groups: ["physics (customer)"] } });

    expect(await signIn("bob", labPeople.bob.password)).not.toBeNull();
    const after = await userByEmail("bob@lab.example");
    expect(after.noAccess).toBe(true);
    expect(await groupsOf(bob.id)).toEqual([{ groupId: elsewhere.id, role: "customer" }]);
  });

  it("reads Active Directory style groups from the user's memberOf when no group search is configured", async () => {
    const adStyle: LdapConfig = { ...config, groupBase: undefined };
    // Carol is in chemistry and, since the test above, physics.
    expect(await directorySignIn(adStyle, "carol", labPeople.carol.password, from().headers)).toMatchObject({ role: "customer" });
    expect((await userByEmail("carol@lab.example")).directoryGroups.sort()).toEqual([labGroupDn("chemistry"), labGroupDn("physics")]);
  });

  it("refuses, saying why, an entry without an e-mail and one that carries a local admin's e-mail", async () => {
    await expect(signIn("dave", labPeople.dave.password)).rejects.toThrow(signInErrors["directory-no-email"]);
    await expect(signIn("mallory", "mallory-password-1")).rejects.toThrow(signInErrors["local-admin"]);
    const adminRow = await userByEmail(env.ADMIN_EMAIL);
    expect(adminRow).toMatchObject({ authSource: "local", externalId: null });
    expect(await lastAudit("auth.sign_in_refused")).toMatchObject({ targetId: admin.id, data: { method: "ldap", reason: "e-mail of a local administrator" } });
  });

  it("speaks StartTLS and LDAPS with the directory's CA, and refuses a certificate it cannot trust", async () => {
    const caFile = slapd.caFile;
    expect(await directorySignIn({ ...config, startTls: true, caFile }, "bob", labPeople.bob.password, from().headers)).toMatchObject({ email: "bob@lab.example" });
    expect(await directorySignIn({ ...config, url: slapd.ldapsUrl, caFile }, "bob", labPeople.bob.password, from().headers)).toMatchObject({ email: "bob@lab.example" });
    await expect(directorySignIn({ ...config, url: slapd.ldapsUrl }, "bob", labPeople.bob.password, from().headers)).rejects.toThrow(signInErrors["directory-down"]);
    await expect(directorySignIn({ ...config, startTls: true, caFile: `${caFile}.missing` }, "bob", labPeople.bob.password, from().headers)).rejects.toThrow(signInErrors["directory-down"]);
  });

  it("with the directory down: a clear message, no failure counted, and local admins still sign in", async () => {
    const down: LdapConfig = { ...config, url: "ldap://127.0.0.1:3385" };
    const ip = "192.0.2.55";
    for (let i = 0; i < env.LOGIN_MAX_ATTEMPTS + 1; i++) {
      const refused = await directorySignIn(down, "bob", labPeople.bob.password, from(ip).headers).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SignInRefused);
      expect((refused as Error).message).toBe(signInErrors["directory-down"]);
    }
    expect(await lastAudit("auth.sign_in_failed")).toMatchObject({ data: { method: "ldap", account: "bob", reason: "directory unavailable" } });
    expect(await localAuthorize({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD! }, from(ip))).toMatchObject({ id: admin.id, method: "local" });
  });
});

describe("local sign-in for admins only", () => {
  it("refuses local accounts other than admins', with a message, while directory accounts and local admins sign in", async () => {
    const customer = await makeUser(db, "customer", "default");
    expect(await localAuthorize({ email: customer.email, password: "password-for-tests" }, from())).toMatchObject({ id: customer.id });
    await setSignInSettings(db, admin, { localAdminsOnly: true });
    try {
      await expect(localAuthorize({ email: customer.email, password: "password-for-tests" }, from())).rejects.toThrow(signInErrors["local-admins-only"]);
      expect(await lastAudit("auth.sign_in_refused")).toMatchObject({ targetId: customer.id, data: { method: "local", reason: "local sign-in is for admins only" } });
      // A wrong password still reads as one (and counts), not as "admins only".
      expect(await localAuthorize({ email: customer.email, password: "wrong-password" }, from())).toBeNull();
      expect(await localAuthorize({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD! }, from())).toMatchObject({ id: admin.id });
      expect(await signIn("carol", labPeople.carol.password)).toMatchObject({ email: "carol@lab.example" });
    } finally {
      await setSignInSettings(db, admin, { localAdminsOnly: false });
    }
    expect(await localAuthorize({ email: customer.email, password: "password-for-tests" }, from())).toMatchObject({ id: customer.id });
    const changes = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "sign_in.settings"), inArray(auditEvents.actorId, [admin.id])));
    expect(changes.map((c) => c.after)).toEqual([{ localAdminsOnly: true }, { localAdminsOnly: false }]);
  });
});
