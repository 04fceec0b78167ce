import { getServerSession } from "next-auth";
import { eq } from "drizzle-orm";
import { getDb } from "../db/client";
import { users, type Role } from "../db/schema";
import type { Actor } from "./actor";
import { authOptions } from "./options";

/**
 * The signed-in user, checked against the database: a disabled user or a session from
 * before a sign-out (older session version) counts as signed out.
 */
export async function currentUser(): Promise<(Actor & { name: string }) | null> {
  const session = (await getServerSession(authOptions)) as { uid?: string; sv?: number } | null;
  if (!session?.uid) return null;
  const db = await getDb();
  const [user] = await db.select().from(users).where(eq(users.id, session.uid));
  if (!user || user.disabled || user.sessionVersion !== session.sv) return null;
  return { id: user.id, email: user.email, role: user.role, name: user.name };
}

export function hasRole(actor: { role: Role } | null, ...roles: Role[]): boolean {
  return Boolean(actor && roles.includes(actor.role));
}
