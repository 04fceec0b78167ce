import { databaseNameProblem, roleNameProblem, scramVerifierPattern } from "../validation/database";

/**
 * The SQL and settings the database recipe puts into a guest, the same for every hypervisor.
 * Values reach SQL only as literals made by `sqlLiteral`, which refuses anything outside the
 * value's strict pattern (so no quote can be in one), and psql quotes them once more where
 * they are used (`format('%I')`, `format('%L')` with `:'var'`). No value is ever part of a
 * shell command: the scripts read these files on standard input.
 */

/** A SQL string literal of `value`, which must match `pattern` (a pattern that admits no quote or backslash). */
export function sqlLiteral(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value) || /['\\\0\r\n]/.test(value)) throw new Error(`postgres: ${what} has an unexpected form`);
  return `'${value}'`;
}

/** The database's names, checked again where they are rendered (the order checked them first). */
export function checkNames(database: string, owner: string): void {
  const db = databaseNameProblem(database);
  if (db) throw new Error(`postgres: database name ${JSON.stringify(database)}: ${db}`);
  const role = roleNameProblem(owner);
  if (role) throw new Error(`postgres: owner ${JSON.stringify(owner)}: ${role}`);
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * psql script that makes the owner (with the password's SCRAM verifier) and the database it
 * owns, each only when missing: run at every boot, it changes nothing the second time, so it
 * never puts back a password the owner has changed since. Only when the caller sets psql's
 * variable `apply_password` (the guest does when this file differs from the one it applied
 * last: a rebuild that kept the data brought a new password) is the owner's password set too.
 */
export function databaseSql(database: string, owner: string, verifier: string): string {
  checkNames(database, owner);
  return [
    "-- The portal's postgres recipe: the owner and its database, made once (run at every boot).",
    `\\set owner ${sqlLiteral(owner, identifier, "the owner's name")}`,
    `\\set db ${sqlLiteral(database, identifier, "the database's name")}`,
    `\\set verifier ${sqlLiteral(verifier, scramVerifierPattern, "the password's verifier")}`,
    "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'verifier') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\\gexec",
    "\\if :apply_password",
    "SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'verifier')\\gexec",
    "\\endif",
    "SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec",
    "SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', :'db')\\gexec",
    "SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'owner')\\gexec",
    "",
  ].join("\n");
}

/**
 * psql script that sets the owner's password to the verifier in psql's variable `verifier`
 * (the set-password hook puts `\set verifier '...'` in front of it after checking its form).
 */
export function rotateSql(owner: string): string {
  if (roleNameProblem(owner)) throw new Error(`postgres: owner ${JSON.stringify(owner)} is not a valid role name`);
  return [
    "-- The portal's postgres recipe: a new password for the owner (its SCRAM-SHA-256 verifier).",
    `\\set owner ${sqlLiteral(owner, identifier, "the owner's name")}`,
    "SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'verifier')\\gexec",
    "",
  ].join("\n");
}

/** The psql line that gives the set-password script the verifier (checked here and again by the guest's own pattern). */
export function verifierLine(verifier: string): string {
  return `\\set verifier ${sqlLiteral(verifier, scramVerifierPattern, "the password's verifier")}`;
}

/** Settings the recipe adds to the server's own (included last, so they win). */
export function serverSettings(opts: { listen: string; socketDir: string; dataDir?: string }): string {
  if (!/^(\*|[a-z0-9.,:]+)$/.test(opts.listen)) throw new Error("postgres: invalid listen addresses");
  return [
    "# Written by the environment portal's postgres recipe; included after the server's own settings.",
    `listen_addresses = '${opts.listen}'`,
    "port = 5432",
    `unix_socket_directories = '${opts.socketDir}'`,
    "password_encryption = scram-sha-256",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "lc_messages = 'C'",
    "dynamic_shared_memory_type = posix",
    "",
  ].join("\n");
}

/**
 * Who may connect: the server's account over the local socket (peer), everyone else with a
 * password (SCRAM-SHA-256), over the socket, from the guest itself and from the networks the
 * guest is on (`samenet`: the subnets of its own addresses). Nothing else is let in.
 */
export const hbaConf = [
  "# Written by the environment portal's postgres recipe.",
  "# TYPE  DATABASE  USER      ADDRESS       METHOD",
  "local   all       postgres                peer",
  "local   all       all                     scram-sha-256",
  "host    all       all       127.0.0.1/32  scram-sha-256",
  "host    all       all       samenet       scram-sha-256",
  "",
].join("\n");
