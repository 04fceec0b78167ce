import type { NextAuthOptions } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { eq, sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { users } from "../db/schema";
import { authSecret } from "../env";
import { verifyPassword } from "./password";
import { clearLoginFailures, loginBlocked, recordLoginFailure } from "./rate-limit";
import { sourceOf, writeAudit } from "../audit/write";

// Loaded by plain Node (tsx) rather than Next's bundler, this CommonJS module's default export
// arrives wrapped in its module object.
const CredentialsProvider = (Credentials as unknown as { default?: typeof Credentials }).default ?? Credentials;

export const TOO_MANY_ATTEMPTS = "Too many failed sign-ins for this account; try again in 15 minutes";

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
        const source = sourceOf(req?.headers as Record<string, unknown> | undefined);
        const db = await getDb();
        if (await loginBlocked(email)) {
          await writeAudit(db, { actorId: null, action: "auth.sign_in_blocked", targetType: "user", data: { email }, source });
          throw new Error(TOO_MANY_ATTEMPTS);
        }
        const [user] = await db.select().from(users).where(eq(users.email, email));
        if (!user || user.disabled || !(await verifyPassword(password, user.passwordHash))) {
          await recordLoginFailure(email);
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
    async session({ session, token }) {
      return { ...session, uid: token.uid, sv: token.sv, role: token.role } as typeof session;
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
