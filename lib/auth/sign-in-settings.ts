import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { signInSettings } from "../db/schema";
import { env } from "../env";
import { conflict } from "../errors";
import { markUnchanged, writeAudit } from "../audit/write";
import type { Actor } from "./actor";
import type { SignInSettingsInput } from "./sign-in-input";

/** The sign-in methods the configuration offers, as the sign-in page and the admins see them. */
export type SignInMethods = {
  oidc: { name: string; issuer: string } | null;
  ldap: { name: string; url: string } | null;
};

export function configuredMethods(): SignInMethods {
  return {
    oidc: env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET ? { name: env.OIDC_NAME, issuer: env.OIDC_ISSUER } : null,
    ldap: env.LDAP_URL ? { name: env.LDAP_NAME, url: env.LDAP_URL } : null,
  };
}

export async function localAdminsOnly(db: Db): Promise<boolean> {
  const [row] = await db.select({ on: signInSettings.localAdminsOnly }).from(signInSettings).where(eq(signInSettings.id, 1));
  return row?.on ?? false;
}

/** What GET /api/v1/sign-in/settings answers. */
export async function signInSettingsView(db: Db) {
  return { localAdminsOnly: await localAdminsOnly(db), methods: { local: true, ...configuredMethods() } };
}

/**
 * Turns local sign-in off for everyone but admins, or on again; audited. Refused while no
 * directory or single sign-on is configured: nobody but the admins could sign in at all.
 */
export async function setSignInSettings(db: Db, actor: Actor, input: SignInSettingsInput) {
  const before = await localAdminsOnly(db);
  const methods = configuredMethods();
  if (input.localAdminsOnly && !methods.ldap && !methods.oidc) {
    throw conflict("No directory (LDAP_URL) or single sign-on (OIDC_ISSUER) is configured: with local sign-in for admins only, nobody else could sign in", "localAdminsOnly");
  }
  if (before === input.localAdminsOnly) {
    markUnchanged();
    return signInSettingsView(db);
  }
  const set = { localAdminsOnly: input.localAdminsOnly, updatedAt: new Date() };
  await db.insert(signInSettings).values({ id: 1, ...set }).onConflictDoUpdate({ target: signInSettings.id, set });
  await writeAudit(db, { actorId: actor.id, action: "sign_in.settings", targetType: "settings", targetId: "sign-in", before: { localAdminsOnly: before }, after: { localAdminsOnly: input.localAdminsOnly } });
  return signInSettingsView(db);
}
