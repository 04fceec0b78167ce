import type { Role } from "../db/schema/enums";

/**
 * From the groups a directory or an identity provider gives a user to what the portal grants:
 * pure rules, applied at every sign-in (lib/auth/directory-users.ts).
 */

/** A mapping rule as stored: `match` is already in normalGroup's form. */
export type MappingRule = { match: string; role: Role; groupId: string | null };

export type Access = {
  /** The highest role of the matching rules; null when none matches (no access). */
  role: Role | null;
  /** Portal groups to be a member of, with the role in each. */
  memberships: Map<string, "customer" | "approver">;
};

const rank: Record<Role, number> = { student: 0, customer: 1, approver: 2, admin: 3 };

/**
 * How a group is compared: without case, and DNs without the spaces some directories put
 * around "," and "=" ("CN=Physics, OU=Groups" is "cn=physics,ou=groups").
 */
export function normalGroup(name: string): string {
  return name.trim().toLowerCase().replace(/\s*([,=])\s*/g, "$1");
}

export function accessFor(rules: MappingRule[], groups: string[]): Access {
  const have = new Set(groups.map(normalGroup));
  let role: Role | null = null;
  const memberships = new Map<string, "customer" | "approver">();
  for (const rule of rules) {
    if (!have.has(rule.match)) continue;
    if (role === null || rank[rule.role] > rank[role]) role = rule.role;
    if (rule.groupId) {
      const as = rule.role === "approver" || rule.role === "admin" ? "approver" : "customer";
      if (memberships.get(rule.groupId) !== "approver") memberships.set(rule.groupId, as);
    }
  }
  return { role, memberships };
}
