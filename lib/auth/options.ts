import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { eq, sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { users, type Role } from "../db/schema";
import { authSecret } from "../env";
import { verifyPassword } from "./password";
import { clearLoginFailures, loginBlocked, recordLoginFailure } from "./rate-limit";
import { sourceOf, writeAudit } from "../audit/write";
import { clientAddress } from "../http/client-address";

export const TOO_MANY_ATTEMPTS = "Too many failed sign-ins for this account; try again in 15 minutes";
export const TOO_MANY_FROM_ADDRESS = "Too many failed sign-ins from your network address; try again in 15 minutes";

/** What a valid session says about its user, read from the database on every use. */
export type SessionUser = { id: string; email: string; name: string; role: Role };

/** The session object the callback below gives (getServerSession's result), or {} when void. */
export type PortalSession = { uid?: string; role?: Role; user?: { name?: string | null; email?: string | null } };

/** The user of a session the callback below built; null for none or a void one. */
export function userOfSession(session: PortalSession | null): SessionUser | null {
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
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export const authOptions: NextAuthOptions = {
  secret: authSecret(),
  session: { strategy: "jwt", maxAge: 12 * 3600 },
  pages: { signIn: "/login" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const email = String(credentials?.email ?? "").trim().toLowerCase();
        const password = String(credentials?.password ?? "");
        if (!email || !password) return null;
        const headers = req?.headers as Record<string, unknown> | undefined;
        const source = sourceOf(headers);
        const address = clientAddress(headers);
        const db = await getDb();
        const blocked = await loginBlocked(email, address);
        if (blocked) {
          await writeAudit(db, { actorId: null, action: "auth.sign_in_blocked", targetType: "user", data: { email, limit: blocked }, source });
          throw new Error(blocked === "address" ? TOO_MANY_FROM_ADDRESS : TOO_MANY_ATTEMPTS);
        }
        const [user] = await db.select().from(users).where(eq(users.email, email));
        if (!user || user.disabled || !(await verifyPassword(password, user.passwordHash))) {
          await recordLoginFailure(email, address);
          await writeAudit(db, { actorId: null, action: "auth.sign_in_failed", targetType: "user", targetId: user?.id ?? null, data: { email }, source });
          return null;
        }
        await clearLoginFailures(email);
        await writeAudit(db, { actorId: user.id, action: "auth.sign_in", targetType: "user", targetId: user.id, source });
        return { id: user.id, email: user.email, name: user.name, role: user.role, sv: user.sessionVersion } as never;
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        const u = user as unknown as { id: string; role: string; sv: number };
        token.uid = u.id;
        token.role = u.role;
        token.sv = u.sv;
      }
      return token;
    },
    // Checked against the database on every read (GET /api/auth/session, getServerSession):
    // a signed-out, disabled or deleted user's cookie gives no session, like no cookie ({}).
    async session({ session, token }) {
      const user = await userOfToken(token);
      if (!user) return {} as typeof session;
      return { ...session, user: { name: user.name, email: user.email }, uid: user.id, sv: token.sv, role: user.role } as typeof session;
    },
  },
  events: {
    // Sign-out voids every session of the user: a copied cookie stops working too.
    async signOut({ token }) {
      const uid = token?.uid;
      if (typeof uid !== "string") return;
      const db = await getDb();
      await db.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, uid));
      await writeAudit(db, { actorId: uid, action: "auth.sign_out", targetType: "user", targetId: uid, data: { sessionsEnded: "all" } });
    },
  },
};
