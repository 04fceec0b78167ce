import { getServerSession } from "next-auth";
import { getToken } from "next-auth/jwt";
import { cookies } from "next/headers";
import type { Role } from "../db/schema";
import { authSecret } from "../env";
import type { Actor } from "./actor";
import { authOptions, userOfToken, type PortalSession } from "./options";

type TokenRequest = Parameters<typeof getToken>[0]["req"];

/**
 * The signed-in user, checked against the database as the session callback in options.ts
 * does (userOfToken): a disabled user or a session from before a sign-out counts as signed
 * out, and so does a directory user without access. The session cookie is decrypted here
 * rather than through getServerSession, which runs next-auth's whole session route on every
 * page and API call and encrypts a renewed cookie that a page cannot even send. The cookie
 * only: a bearer header is an API token (lib/api/handler), never a session.
 */
export async function currentUser(): Promise<(Actor & { name: string }) | null> {
  const req = { cookies: await cookies(), headers: {} } as unknown as TokenRequest;
  const token = await getToken({ req, secret: authSecret() });
  const user = token ? await userOfToken(token) : null;
  if (!user || user.noAccess) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export function hasRole(actor: { role: Role } | null, ...roles: Role[]): boolean {
  return Boolean(actor && roles.includes(actor.role));
}

/**
 * A session that gives no access: signed in through the directory or single sign-on, but no
 * mapping rule matches the user's groups. The sign-in page shows it (with those groups); every
 * other page and route treats the session as signed out.
 */
export async function sessionWithoutAccess(): Promise<{ email: string; name: string; groups: string[]; method: string } | null> {
  const session = (await getServerSession(authOptions)) as PortalSession | null;
  if (!session?.noAccess || !session.user?.email) return null;
  return { email: session.user.email, name: session.user.name ?? "", groups: session.noAccess.groups, method: session.noAccess.method };
}
