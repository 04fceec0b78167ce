import type { OAuthConfig } from "next-auth/providers/oauth";
import { env } from "../env";

/**
 * Single sign-on through an OpenID Connect provider (Keycloak, Entra ID, Authentik), with
 * next-auth's OAuth support: discovery from the issuer, the code flow with PKCE, state and
 * nonce checked, the ID token verified, and the user's claims from the ID token and the
 * userinfo endpoint together (many providers put the groups in only one of them).
 */

export type OidcClaims = { sub: string; email?: string; email_verified?: boolean; name?: string; preferred_username?: string } & Record<string, unknown>;

/** The user as next-auth hands it to the sign-in callback (lib/auth/sign-in.ts). */
export type OidcUser = { id: string; email: string | null; name: string | null; groups: string[]; emailVerified: boolean };

export const OIDC_PROVIDER_ID = "oidc";

const issuer = () => env.OIDC_ISSUER?.replace(/\/+$/, "");

export function oidcConfigured(): boolean {
  return Boolean(env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET);
}

/**
 * The groups in the configured claim (OIDC_GROUPS_CLAIM): a list or a single string; a dotted
 * name reaches into an object (Keycloak's realm roles: realm_access.roles).
 */
export function groupsOf(claims: Record<string, unknown>, claim = env.OIDC_GROUPS_CLAIM): string[] {
  let value: unknown = claims;
  for (const part of claim.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return list.filter((g): g is string => typeof g === "string" && g.trim() !== "");
}

/** next-auth's provider for the configured issuer, or null when single sign-on is not configured. */
export function oidcProvider(): OAuthConfig<OidcClaims> | null {
  if (!oidcConfigured()) return null;
  return {
    id: OIDC_PROVIDER_ID,
    name: env.OIDC_NAME,
    type: "oauth",
    wellKnown: `${issuer()}/.well-known/openid-configuration`,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: env.OIDC_SCOPES } },
    checks: ["pkce", "state", "nonce"],
    idToken: true,
    userinfo: {
      async request({ tokens, client }) {
        // next-auth types the tokens loosely; with idToken they are openid-client's verified TokenSet.
        const set = tokens as unknown as Parameters<typeof client.userinfo>[0] & { claims(): OidcClaims };
        const claims = set.claims();
        // Given the token set, openid-client checks that the userinfo's subject is the ID token's.
        const info = client.issuer.metadata.userinfo_endpoint ? ((await client.userinfo(set)) as Record<string, unknown>) : {};
        return { ...claims, ...info } as OidcClaims;
      },
    },
    profile(claims): OidcUser {
      return {
        id: claims.sub,
        email: typeof claims.email === "string" ? claims.email.trim().toLowerCase() : null,
        name: claims.name ?? claims.preferred_username ?? null,
        groups: groupsOf(claims),
        emailVerified: claims.email_verified !== false,
      };
    },
  };
}

let endpoint: { at: number; url: string | null } | null = null;

/** The provider's end_session_endpoint from its discovery document (asked at most every 10 minutes). */
async function endSessionEndpoint(): Promise<string | null> {
  if (endpoint && Date.now() - endpoint.at < 600_000) return endpoint.url;
  const res = await fetch(`${issuer()}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`);
  const meta = (await res.json()) as { end_session_endpoint?: unknown };
  endpoint = { at: Date.now(), url: typeof meta.end_session_endpoint === "string" ? meta.end_session_endpoint : null };
  return endpoint.url;
}

/**
 * Where the browser goes to end the session at the identity provider too (RP-initiated
 * logout), coming back to `returnTo`; null when the provider offers no end-session endpoint
 * or cannot be asked (the portal's own session ends anyway).
 */
export async function endSessionUrl(idToken: string, returnTo: string): Promise<string | null> {
  if (!oidcConfigured()) return null;
  let base: string | null;
  try {
    base = await endSessionEndpoint();
  } catch (err) {
    console.warn(`[auth] single sign-on: could not read the end-session endpoint: ${err instanceof Error ? err.message : err}`);
    return null;
  }
  if (!base) return null;
  const url = new URL(base);
  url.searchParams.set("id_token_hint", idToken);
  url.searchParams.set("post_logout_redirect_uri", returnTo);
  url.searchParams.set("client_id", env.OIDC_CLIENT_ID!);
  return url.toString();
}
