import { createHash } from "node:crypto";
import { GUEST_HOOKS, type GuestRecipe } from "../drivers/types";
import { postgresBin, postgresMajor } from "../drivers/images/postgres";
import { databasePasswordPattern } from "../validation/database";
import { postgresForm, postgresPort, type PostgresParams } from "./postgres-form";
import { checkNames, databaseSql, hbaConf, rotateSql, serverSettings } from "./postgres-sql";
import { postgresXenPlan, postgresZonePlan } from "./postgres-hosts";
import { databaseLines, setPasswordHook } from "./postgres-scripts";
import { scramVerifier } from "./scram";
import type { Recipe, RecipeContext, RecipeHostPlan } from "./types";

/**
 * "PostgreSQL database": PostgreSQL 15 listening on the guest's addresses, port 5432, with one
 * database and its owner, whose password the portal makes at deploy time and shows its owner
 * once. Only the password's SCRAM-SHA-256 verifier goes into the guest (a file of mode 0600
 * in the glue); the portal keeps a hash (order_secrets). Logins: SCRAM-SHA-256 from the
 * guest's networks; the server's own account by peer over the local socket.
 *
 * QEMU guests (image linux-qemu-postgres, ../drivers/images/postgres.ts) run the setup below
 * at every boot: the `postgres` account, /dev/shm, the cluster on /data/pgdata at first boot
 * (`step initdb`), the server (`step start`), the owner and database when missing (`step
 * database`); the check is pg_isready and a query as the server's account.
 *
 * Backups are made consistent by quiescing, not by a dump: the `quiesce` hook runs CHECKPOINT
 * and freezes /data (fsfreeze) just before the disk copy starts and thaws it right after the
 * copy's point in time is fixed (QEMU's drive-backup), so the copy holds a cleanly written
 * filesystem with everything committed up to then. Xen and zones snapshots are atomic
 * already: there the hook runs CHECKPOINT only.
 *
 * Xen guests (image linux-db: Debian 12 with PostgreSQL 15 from Debian) and Solaris zones
 * (solaris10-whole-capped, the licensed capped zone) get the same database as a command plan
 * (hostPlan). Those two renderings were tested only against the host emulators in
 * tests/emulators; they have NOT been run on a real Xen or Solaris host.
 */

const PG = postgresBin;
const DATA = "/data/pgdata";
const SOCKET = "/var/run/postgresql";
const files = {
  settings: "/etc/portal/postgres/postgresql.conf",
  hba: "/etc/portal/postgres/pg_hba.conf",
  sql: "/etc/portal/postgres/database.sql",
  rotate: "/etc/portal/postgres/rotate.sql",
  powerButton: "/etc/acpi/PWRF/00000080",
} as const;

/** Secrets the portal makes at deploy time (lib/recipes/secrets.ts: 144 random bits, base64url) or at a rotation (letters and digits). */
const deployPassword = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The owner's password from the deploy's secrets, as its verifier (the only form that leaves
 * the portal). Its salt comes from the order and the password (which has 144 random bits, so
 * the salt is as unguessable as a random one): rendering the same deployment again gives the
 * same files, so the guest sees nothing new to apply, and the golden plans stay put.
 */
function passwordVerifier(ctx: RecipeContext): string {
  const password = ctx.secrets.password;
  if (!password || !(deployPassword.test(password) || databasePasswordPattern.test(password))) throw new Error("postgres: the owner's password is missing or malformed");
  const salt = createHash("sha256").update(`portal postgres salt\0${ctx.orderId}\0${password}`).digest().subarray(0, 16);
  return scramVerifier(password, salt);
}

/** The loopback (by address: the image has no /etc/hosts) and the guest's addresses. */
function listenAddresses(ctx: RecipeContext): string {
  const ips = ctx.addresses.map((a) => a.ip);
  if (ips.length === 0 || ips.some((ip) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip))) throw new Error("postgres: the guest has no usable address");
  return ["127.0.0.1", ...ips].join(",");
}

/** `su` to the server's account with a fixed command line (no value of the order is in it). */
const asPostgres = (command: string) => `su postgres -s /bin/sh -c "${command}"`;

function render(params: PostgresParams, ctx: RecipeContext): GuestRecipe {
  checkNames(params.database, params.owner);
  const verifier = passwordVerifier(ctx);
  return {
    slug: postgres.slug,
    version: postgres.version,
    timeoutSeconds: postgres.timeoutSeconds,
    steps: postgres.steps.map((s) => s.name),
    files: [
      { path: files.settings, data: serverSettings({ listen: listenAddresses(ctx), socketDir: SOCKET }) },
      { path: files.hba, data: hbaConf },
      { path: files.sql, data: databaseSql(params.database, params.owner, verifier), mode: 0o600 },
      { path: files.rotate, data: rotateSql(params.owner) },
      { path: GUEST_HOOKS["set-password"], data: setPasswordHook({ shell: "/bin/sh", grep: "grep", psql: `${PG}/psql`, rotate: files.rotate, as: asPostgres }), mode: 0o700 },
      { path: GUEST_HOOKS.quiesce, data: quiesceHook(), mode: 0o700 },
      // The image's power button handler, with PostgreSQL stopped first (a clean shutdown instead of crash recovery at the next boot).
      { path: files.powerButton, data: powerButton(), mode: 0o755 },
    ],
    // POSIX sh (busybox). Runs at every boot; keeps what it made once on /data.
    setup: `set -e
PG=${PG}
PGDATA=${DATA}
# The server's account: the image has none (its /etc/passwd is written at every boot).
grep -q '^postgres:' /etc/group || echo 'postgres:x:70:' >> /etc/group
grep -q '^postgres:' /etc/passwd || echo 'postgres:x:70:70:PostgreSQL:${DATA}:/bin/sh' >> /etc/passwd
# POSIX shared memory (dynamic_shared_memory_type = posix) lives in /dev/shm.
mkdir -p /dev/shm
grep -q ' /dev/shm ' /proc/mounts || mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
# Programs of other accounts may keep temporary files (the image makes /tmp for root only).
chmod 1777 /tmp
mkdir -p ${SOCKET}
chown postgres:postgres ${SOCKET}
chmod 2775 ${SOCKET}
if [ ! -s $PGDATA/PG_VERSION ]; then
  echo "step initdb"
  # Made beside its place and moved there only when complete: an interrupted first boot starts over.
  rm -rf $PGDATA.new
  mkdir -p $PGDATA.new
  chown postgres:postgres $PGDATA.new
  chmod 700 $PGDATA.new
  if ! ${asPostgres("TZ=UTC $PG/initdb -D $PGDATA.new -U postgres -E UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256 --no-sync")} > /tmp/initdb.log 2>&1; then
    cat /tmp/initdb.log
    exit 1
  fi
  # initdb's own fsync of every file is slow under emulation: one sync of the filesystem instead, before the move.
  sync
  echo "include_if_exists = '${files.settings}'" >> $PGDATA.new/postgresql.conf
  mv $PGDATA.new $PGDATA
  echo "PostgreSQL ${postgresMajor} cluster made in $PGDATA"
fi
echo "step start"
cp ${files.hba} $PGDATA/pg_hba.conf
chown postgres:postgres $PGDATA/pg_hba.conf
chmod 600 $PGDATA/pg_hba.conf
# A fresh boot: no server of this cluster runs, so a pid file is left from the last one.
rm -f $PGDATA/postmaster.pid
if ! ${asPostgres("$PG/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -t 300 start")} > /tmp/pg_ctl.log 2>&1; then
  cat /tmp/pg_ctl.log
  tail -n 20 $PGDATA/server.log
  exit 1
fi
echo "PostgreSQL ${postgresMajor} listens on port 5432"
echo "step database"
${databaseLines({ sql: files.sql, psql: "$PG/psql", sum: "sha256sum", as: asPostgres })}echo "owner ${params.owner} and database ${params.database} are there"
`,
    check: `${PG}/pg_isready -q -h 127.0.0.1 -p 5432 || exit 1
[ "$(${asPostgres(`${PG}/psql -X -A -t -P pager=off -d ${params.database} -c 'select 1'`)} 2>/dev/null)" = 1 ] || exit 1
echo "port=5432 database=${params.database} user=${params.owner}"
`,
  };
}

/** The quiesce hook of QEMU guests: CHECKPOINT, then /data frozen until thawed (or for 60 s at most). */
function quiesceHook(): string {
  return `#!/bin/sh
# quiesce freeze|thaw, run by the portal around the start of a backup's disk copy: PostgreSQL
# writes out every committed change (CHECKPOINT), then /data is frozen, so the copy's point in
# time holds a cleanly written filesystem; thawed right after the copy started, and by itself
# after 60 s whatever happens to the portal meanwhile.
case "$1" in
freeze)
  ${asPostgres(`${PG}/psql -X -q -d postgres -c CHECKPOINT`)} || { echo "quiesce: CHECKPOINT failed"; exit 1; }
  sync
  fsfreeze --freeze /data || { echo "quiesce: /data could not be frozen"; exit 1; }
  ( sleep 60; fsfreeze --unfreeze /data ) </dev/null >/dev/null 2>&1 &
  echo $! > /run/portal-quiesce.pid
  echo "quiesce: CHECKPOINT done, /data frozen"
  ;;
thaw)
  [ -f /run/portal-quiesce.pid ] && kill "$(cat /run/portal-quiesce.pid)" 2>/dev/null
  rm -f /run/portal-quiesce.pid
  fsfreeze --unfreeze /data 2>/dev/null
  echo "quiesce: /data thawed"
  ;;
*) echo "usage: quiesce freeze|thaw"; exit 2 ;;
esac
`;
}

/** The image's ACPI power button handler (lib/drivers/images/recipe.ts) with the server stopped first. */
function powerButton(): string {
  return `#!/bin/sh
echo "portal-init: power button: stopping PostgreSQL" > /dev/console
${asPostgres(`${PG}/pg_ctl -D ${DATA} -m fast -w -t 20 stop`)} > /dev/console 2>&1
fsfreeze --unfreeze /data 2>/dev/null
echo "portal-init: power button: powering off" > /dev/console
sync
umount -r /data
poweroff -f
`;
}

/** Xen and zones: the command plan of ./postgres-hosts.ts (emulator-tested only). */
function hostPlan(params: PostgresParams, ctx: RecipeContext, kind: "xen" | "zones"): RecipeHostPlan {
  checkNames(params.database, params.owner);
  const address = (ctx.addresses.find((a) => a.purpose === "production") ?? ctx.addresses[0])?.ip;
  if (!address) throw new Error("postgres: the guest has no address");
  const input = { database: params.database, owner: params.owner, verifier: passwordVerifier(ctx), listen: listenAddresses(ctx), address };
  return kind === "xen" ? postgresXenPlan(input) : postgresZonePlan(input);
}

export const postgres: Recipe<PostgresParams> = {
  ...postgresForm,
  render,
  hostPlan,
  // Xen, zones and sim guests report no check line: the outputs come from the order.
  outputValue: (name, { params }) => ({ port: String(postgresPort), database: params.database, user: params.owner })[name] ?? null,
  // A new password reaches the guest as its verifier only (the set-password hook; random salt).
  rotationInput: (password) => {
    if (!databasePasswordPattern.test(password)) throw new Error("postgres: a new password must be letters and digits");
    return scramVerifier(password);
  },
};
