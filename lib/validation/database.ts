/**
 * Names and secrets of the database an order makes (the `postgres` recipe): checked by the
 * order form and the API with messages, and again by every rendering (QEMU script, Xen and
 * zones plans, the password rotation) before anything reaches a guest. Identifiers are always
 * quoted as SQL identifiers too; none of these patterns admits a quote, a space or a shell's
 * special character. The browser loads this file too.
 */

/** A database or role name: lower case, digits and underscores, at most 63 characters (PostgreSQL's NAMEDATALEN - 1). */
export const sqlIdentifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Databases every cluster has, which an order may not take. */
export const reservedDatabaseNames = new Set(["postgres", "template0", "template1"]);

/** Roles every cluster has or that PostgreSQL reads as keywords in role specifications. */
export const reservedRoleNames = new Set(["postgres", "public", "none", "current_user", "current_role", "session_user", "root", "portal"]);

/** What is wrong with a database name, or null. */
export function databaseNameProblem(name: string): string | null {
  if (!sqlIdentifierPattern.test(name)) return "starts with a lower-case letter or _, then lower-case letters, digits or _ (at most 63)";
  if (reservedDatabaseNames.has(name)) return `${name} is a database every PostgreSQL server has; choose another name`;
  return null;
}

/** What is wrong with an owner (role) name, or null. */
export function roleNameProblem(name: string): string | null {
  if (!sqlIdentifierPattern.test(name)) return "starts with a lower-case letter or _, then lower-case letters, digits or _ (at most 63)";
  if (reservedRoleNames.has(name)) return `${name} is reserved; choose another name`;
  if (name.startsWith("pg_")) return "names starting with pg_ are reserved for PostgreSQL's own roles";
  return null;
}

/**
 * The passwords the portal makes for database owners: letters and digits only, so that no
 * quoting, URL or connection-string escaping is ever needed to use one.
 */
export const databasePasswordPattern = /^[A-Za-z0-9]{20,64}$/;

/**
 * A SCRAM-SHA-256 verifier as PostgreSQL stores it (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * base64): what the portal sends to a guest instead of the password, so the password itself
 * never reaches the guest, its host or a console.
 */
export const scramVerifierPattern = /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/;

/** The verifier pattern as a POSIX extended regular expression (the guest's own check: `grep -E`). */
export const scramVerifierEre = "^SCRAM-SHA-256[$]4096:[A-Za-z0-9+/]{22}==[$][A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$";
