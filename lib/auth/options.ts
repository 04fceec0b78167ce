import type { NextAuthOptions } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { eq, sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { users, type AuthSource, type Role } from "../db/schema";
import { authSecret } from "../env";
import { writeAudit } from "../audit/write";
import { ldapConfigFromEnv } from "./ldap";
import { OIDC_PROVIDER_ID, oidcProvider, type OidcUser } from "./oidc";
import { directorySignIn, localSignIn, oidcSignIn, type SignedIn } from "./sign-in";

// Loaded by plain Node (tsx) rather than Next's bundler, this CommonJS module's default export
// arrives wrapped in its module object.
const CredentialsProvider = (Credentials as unknown as { default?: typeof Credentials }).default ?? Credentials;

/** next-auth's id of the directory (LDAP) form; the local form keeps next-auth's "credentials". */
export const LDAP_PROVIDER_ID = "ldap";

/** What a valid session says about its user, read from the database on every use. */
export type SessionUser = { id: string; email: string; name: string; role: Role; noAccess: boolean; directoryGroups: string[] };

/**
 * The session object the callback below gives (getServerSession's result), or {} when void.
 * A user whose directory groups map to no role gets `noAccess` instead of an id and a role:
 * every page and route treats that session as signed out, and the sign-in page says why.
 */
export type PortalSession = {
  uid?: string;
  role?: Role;
  user?: { name?: string | null; email?: string | null };
  noAccess?: { groups: string[]; method: AuthSource };
};

/** The user of a session the callback below built; null for none, a void one, or one without access. */
export function userOfSession(session: PortalSession | null): Omit<SessionUser, "noAccess" | "directoryGroups"> | null {
  if (!session?.uid || !session.role || !session.user?.email) return null;
  return { id: session.uid, email: session.user.email, name: session.user.name ?? "", role: session.role };
}

/**
 * The user a session token stands for, or null when the token is void: the user is gone or
 * disabled, or signed out since (sign-out raises the user's session version, which the token
 * carries from sign-in).
 */
export async function userOfToken(token: Record<string, unknown>): Promise<SessionUser | null> {
  if (typeof token.uid !== "string" || typeof token.sv !== "number") return null;
  const db = await getDb();
  const [user] = await db.select().from(users).where(eq(users.id, token.uid));
  if (!user || user.disabled || user.sessionVersion !== token.sv) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, noAccess: user.noAccess, directoryGroups: user.directoryGroups };
}

type Headers = Record<string, unknown> | undefined;
const headersOf = (req: unknown) => (req as { headers?: Headers } | undefined)?.headers;

const ldap = ldapConfigFromEnv();
const oidc = oidcProvider();

export const authOptions: NextAuthOptions = {
  secret: authSecret(),
  session: { strategy: "jwt", maxAge: 12 * 3600 },
  // Single sign-on comes back to the sign-in page with ?error=<code> when it fails.
  pages: { signIn: "/login", error: "/login" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      authorize: (credentials, req) =>
        localSignIn(String(credentials?.email ?? "").trim().toLowerCase(), String(credentials?.password ?? ""), headersOf(req)) as Promise<never>,
    }),
    ...(ldap
      ? [
          CredentialsProvider({
            id: LDAP_PROVIDER_ID,
            name: "Directory account",
            credentials: { login: { label: "User name", type: "text" }, password: { label: "Password", type: "password" } },
            authorize: (credentials, req) => directorySignIn(ldap, String(credentials?.login ?? "").trim(), String(credentials?.password ?? ""), headersOf(req)) as Promise<never>,
          }),
        ]
      : []),
    ...(oidc ? [oidc] : []),
  ],
  callbacks: {
    async jwt({ token, user, account }) {
      if (user) {
        const u = user as unknown as SignedIn;
        token.uid = u.id;
        token.role = u.role;
        token.sv = u.sv;
        token.method = u.method;
      }
      // Kept (the token is an encrypted cookie) to end the identity provider's session at sign-out.
      if (account?.provider === OIDC_PROVIDER_ID && account.id_token) token.idToken = account.id_token;
      return token;
    },
    // Checked against the database on every read (GET /api/auth/session, getServerSession):
    // a signed-out, disabled or deleted user's cookie gives no session, like no cookie ({}).
    async session({ session, token }) {
      const user = await userOfToken(token);
      if (!user) return {} as typeof session;
      const who = { name: user.name, email: user.email };
      if (user.noAccess) return { user: who, expires: session.expires, noAccess: { groups: user.directoryGroups, method: token.method } } as typeof session;
      return { ...session, user: who, uid: user.id, sv: token.sv, role: user.role } as typeof session;
    },
  },
  events: {
    // Sign-out voids every session of the user: a copied cookie stops working too.
    async signOut({ token }) {
      const uid = token?.uid;
      if (typeof uid !== "string") return;
      const db = await getDb();
      await db.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, uid));
      await writeAudit(db, { actorId: uid, action: "auth.sign_out", targetType: "user", targetId: uid, data: { method: token.method ?? "local", sessionsEnded: "all" } });
    },
  },
};

/**
 * The options the sign-in routes (/api/auth/...) run with: single sign-on's last step needs the
 * request, to count a refusal against the client's address and record where it came from.
 */
export function signInOptions(headers: Headers): NextAuthOptions {
  return {
    ...authOptions,
    callbacks: {
      ...authOptions.callbacks,
      async signIn({ user, account }) {
        if (account?.provider !== OIDC_PROVIDER_ID) return true;
        const outcome = await oidcSignIn(user as unknown as OidcUser, headers);
        if (typeof outcome === "string") return `/login?error=${outcome}`;
        // next-auth hands this same object to the jwt callback: it becomes the portal's user.
        Object.assign(user, outcome);
        return true;
      },
    },
  };
}
