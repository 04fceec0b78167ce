/**
 * TEST EMULATOR, NOT THE REAL TOOLS: what the database recipe (lib/recipes/postgres-hosts.ts)
 * runs inside a Xen guest's files or a zone, answered from the guest's files. No PostgreSQL
 * runs: the emulated cluster is a folder with PG_VERSION, and its roles are a JSON file
 * (emulated-roles.json: owner -> SCRAM verifier, databases) next to it, so a test can see
 * that the owner and database were made from the plan's SQL file and that a new password's
 * verifier reached the guest.
 *
 * - `/etc/portal/postgres/apply account|initdb|start|database` (zones): the `postgres` account
 *   in etc/passwd and etc/group, the cluster under data/pgdata, the owner and database from
 *   etc/portal/postgres/database.sql once the SMF service is online;
 * - `svccfg import FILE`: registers the manifest's service (disabled);
 * - `pg_isready -h 127.0.0.1 -p 5432`: "accepting connections" once the service is online;
 * - the hooks `/etc/portal/hooks/set-password` (verifier on standard input, checked like the
 *   real hook) and `/etc/portal/hooks/quiesce freeze|thaw` (logged in emulated-checkpoints.log);
 * - `test -x|-f PATH` in the guest's root.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { fail, out } from "./state.mjs";

export const POSTGRES_FMRI = "svc:/application/database/portal-postgres:default";
const APPLY = "/etc/portal/postgres/apply";
const VERIFIER = /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/;

const inRoot = (root, p) => path.join(root, p);
const lines = (file) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

/** The emulated cluster of a guest: the zone's on /data, a Debian guest's in Debian's place. */
function clusterDir(root) {
  const zone = inRoot(root, "data/pgdata");
  return existsSync(path.join(zone, "PG_VERSION")) ? zone : inRoot(root, "var/lib/postgresql/15/main");
}

function rolesFile(root) {
  return path.join(clusterDir(root), "emulated-roles.json");
}

/**
 * The emulated roles. A Debian guest's owner and database are made at its first boot by
 * portal-postgres.service, which nothing runs here: where that unit is enabled and the plan's
 * SQL file is there, they are taken as made from it.
 */
function readRoles(root) {
  const f = rolesFile(root);
  if (existsSync(f)) return JSON.parse(readFileSync(f, "utf8"));
  const sql = inRoot(root, "etc/portal/postgres/database.sql");
  if (existsSync(inRoot(root, "etc/systemd/system/multi-user.target.wants/portal-postgres.service")) && existsSync(sql)) {
    const v = sqlVars(readFileSync(sql, "utf8"));
    return { roles: { [v.owner]: v.verifier }, databases: { [v.db]: { owner: v.owner } } };
  }
  return { roles: {}, databases: {} };
}

function needScript(root, file) {
  const p = inRoot(root, file);
  if (!existsSync(p)) fail(`sh: ${file}: not found`, 1);
  if (!(statSync(p).mode & 0o100)) fail(`sh: ${file}: Permission denied`, 1);
}

/** The `\set name 'value'` lines of the recipe's SQL file. */
function sqlVars(text) {
  return Object.fromEntries([...text.matchAll(/^\\set (\w+) '([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

function apply(root, sub, services) {
  needScript(root, APPLY);
  const passwd = inRoot(root, "etc/passwd");
  const group = inRoot(root, "etc/group");
  const hasAccount = () => lines(passwd).some((l) => l.startsWith("postgres:"));
  const data = inRoot(root, "data/pgdata");
  switch (sub) {
    case "account":
      mkdirSync(path.dirname(passwd), { recursive: true });
      if (!lines(group).some((l) => l.startsWith("postgres:"))) appendFileSync(group, "postgres::90:\n");
      if (!hasAccount()) appendFileSync(passwd, "postgres:x:90:90::/data/pgdata:/bin/sh\n");
      return;
    case "initdb":
      if (!hasAccount()) fail("su: Unknown id: postgres", 1);
      if (existsSync(path.join(data, "PG_VERSION"))) return;
      mkdirSync(data, { recursive: true });
      writeFileSync(path.join(data, "PG_VERSION"), "15\n");
      return out("Success. You can now start the database server using: pg_ctl -D /data/pgdata -l logfile start");
    case "start":
    case "stop":
      return;
    case "database": {
      if (services?.[POSTGRES_FMRI] !== "online") fail('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory', 2);
      const sqlFile = inRoot(root, "etc/portal/postgres/database.sql");
      const sql = readFileSync(sqlFile, "utf8");
      const v = sqlVars(sql);
      const sum = createHash("sha256").update(sql).digest("hex");
      const appliedFile = inRoot(root, "data/.portal/postgres-sql.applied");
      const last = existsSync(appliedFile) ? readFileSync(appliedFile, "utf8").trim() : "";
      const state = readRoles(root);
      if (!state.roles[v.owner] || (last && last !== sum)) state.roles[v.owner] = v.verifier;
      state.databases[v.db] ??= { owner: v.owner };
      writeFileSync(rolesFile(root), JSON.stringify(state, null, 2));
      mkdirSync(path.dirname(appliedFile), { recursive: true });
      writeFileSync(appliedFile, `${sum}\n`);
      return;
    }
    default:
      fail("usage: apply account|initdb|start|stop|database", 2);
  }
}

/** A recipe hook in the guest: exit code and output, as the real hooks answer. */
export function runHook(root, hook, arg, input) {
  const file = `/etc/portal/hooks/${hook}`;
  if (!root || !existsSync(inRoot(root, file))) return { code: 127, output: `sh: ${file}: not found` };
  if (hook === "set-password") {
    const v = (input ?? "").split("\n")[0];
    if (!VERIFIER.test(v)) return { code: 2, output: "set-password: not a SCRAM-SHA-256 verifier" };
    const owner = sqlVars(readFileSync(inRoot(root, "etc/portal/postgres/rotate.sql"), "utf8")).owner;
    const state = readRoles(root);
    if (!state.roles[owner]) return { code: 1, output: `ERROR:  role "${owner}" does not exist` };
    state.roles[owner] = v;
    writeFileSync(rolesFile(root), JSON.stringify(state, null, 2));
    return { code: 0, output: "set-password: done" };
  }
  if (hook === "quiesce") {
    if (arg !== "freeze" && arg !== "thaw") return { code: 2, output: "usage: quiesce freeze|thaw" };
    mkdirSync(clusterDir(root), { recursive: true });
    appendFileSync(path.join(clusterDir(root), "emulated-checkpoints.log"), `${arg}\n`);
    return { code: 0, output: arg === "freeze" ? "quiesce: CHECKPOINT done" : "quiesce: nothing to thaw" };
  }
  return { code: 127, output: `sh: ${file}: not found` };
}

/** One program of the recipe in a guest root; true when it is one of these. */
export function postgresInGuest(root, prog, args, services) {
  if (prog === "test" && (args[0] === "-x" || args[0] === "-f")) {
    if (!existsSync(inRoot(root, args[1]))) process.exit(1);
    return true;
  }
  if (prog === APPLY) return apply(root, args[0], services), true;
  if (prog === "svccfg" && args[0] === "import" && services) {
    if (!existsSync(inRoot(root, args[1]))) fail(`svccfg: Could not open file ${args[1]}`, 1);
    const name = /<service name="([^"]+)"/.exec(readFileSync(inRoot(root, args[1]), "utf8"))?.[1];
    if (!name) fail(`svccfg: ${args[1]}: not a service manifest`, 1);
    services[`svc:/${name}:default`] ??= "disabled";
    return true;
  }
  if (prog.endsWith("/pg_isready")) {
    const up = services?.[POSTGRES_FMRI] === "online" && existsSync(inRoot(root, "data/pgdata/PG_VERSION"));
    if (!up) fail("127.0.0.1:5432 - no response", 2);
    out("127.0.0.1:5432 - accepting connections");
    return true;
  }
  if (prog.startsWith("/etc/portal/hooks/")) {
    const r = runHook(root, path.basename(prog), args[0], readFileSync(0, "utf8"));
    if (r.code !== 0) fail(r.output, r.code === 127 ? 1 : r.code);
    out(r.output);
    return true;
  }
  return false;
}

/** `nc -z IP 5432` on a dom0: a Debian guest whose cluster is there and whose units are enabled listens. */
export function postgresListens(disk) {
  const wants = path.join(disk, "etc/systemd/system/multi-user.target.wants");
  return ["postgresql.service", "portal-postgres.service"].every((u) => existsSync(path.join(wants, u))) && existsSync(path.join(disk, "var/lib/postgresql/15/main/PG_VERSION"));
}
