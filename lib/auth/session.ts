import { getServerSession } from "next-auth";
import type { Role } from "../db/schema";
import type { Actor } from "./actor";
import { authOptions, userOfSession, type PortalSession } from "./options";

/**
 * The signed-in user, checked against the database (by the session callback in options.ts):
 * a disabled user or a session from before a sign-out counts as signed out.
 */
export async function currentUser(): Promise<(Actor & { name: string }) | null> {
  return userOfSession((await getServerSession(authOptions)) as PortalSession | null);
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
