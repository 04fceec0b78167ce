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
