import { GUEST_HOOKS } from "../drivers/types";
import { databaseSql, hbaConf, rotateSql, serverSettings } from "./postgres-sql";
import { checkpointHook, databaseLines, setPasswordHook } from "./postgres-scripts";
import type { RecipeHostPlan } from "./types";

/**
 * The database recipe for Xen and Solaris zones guests, as the command plan lib/drivers/plan/
 * guest-extras.ts runs (files written into the guest, commands through `chroot` on a Xen
 * guest's mounted root before its first boot, through `zlogin` once a zone runs).
 *
 * NOT run on a real Xen or Solaris host: written from Debian's and PostgreSQL's documentation
 * and tested only against the host emulators in tests/emulators and the golden plans.
 *
 * Xen (image linux-db: Debian 12 with Debian's postgresql-15, whose package made the cluster
 * 15/main): the settings go to conf.d and pg_hba.conf of that cluster, Debian's
 * postgresql.service starts it (pg_ctlcluster), and a oneshot unit after it makes the owner
 * and the database (psql) at every boot, as on QEMU. The cluster stays in Debian's place
 * (/var/lib/postgresql/15/main, on the root disk): a Xen reinstall that keeps /data does not
 * keep the database.
 * Zones (image solaris10-whole-capped, the licensed zone with CPU and memory caps, so a
 * per-CPU licence is paid for the cap only): PostgreSQL 15 is expected under /opt/postgres/15
 * in the image (Solaris 10 ships none that speaks SCRAM); `apply` makes the `postgres`
 * account and the cluster on the zone's /data dataset, SMF starts the server (and again at
 * every boot of the zone), `apply database` makes the owner and the database.
 */

/** `listen`: the addresses the server listens on; `address`: the one the host probes. */
export type HostPlanInput = { database: string; owner: string; verifier: string; listen: string; address: string };

const xen = {
  bin: "/usr/lib/postgresql/15/bin",
  conf: "/etc/postgresql/15/main",
  apply: "/etc/portal/postgres/apply",
  sql: "/etc/portal/postgres/database.sql",
  rotate: "/etc/portal/postgres/rotate.sql",
  unit: "/etc/systemd/system/portal-postgres.service",
} as const;

const zone = {
  bin: "/opt/postgres/15/bin",
  data: "/data/pgdata",
  settings: "/etc/portal/postgres/postgresql.conf",
  hba: "/etc/portal/postgres/pg_hba.conf",
  apply: "/etc/portal/postgres/apply",
  sql: "/etc/portal/postgres/database.sql",
  rotate: "/etc/portal/postgres/rotate.sql",
  manifest: "/var/svc/manifest/site/portal-postgres.xml",
  fmri: "svc:/application/database/portal-postgres:default",
} as const;

export function postgresXenPlan(input: HostPlanInput): RecipeHostPlan {
  const as = (cmd: string) => `su postgres -s /bin/sh -c "${cmd}"`;
  const psql = `${xen.bin}/psql`;
  return {
    files: [
      { path: `${xen.conf}/conf.d/portal.conf`, content: serverSettings({ listen: input.listen, socketDir: "/var/run/postgresql" }), mode: 0o644, description: "Server settings: the guest's addresses, port 5432, SCRAM-SHA-256, UTC" },
      { path: `${xen.conf}/pg_hba.conf`, content: hbaConf, mode: 0o640, description: "Who may connect: passwords (SCRAM-SHA-256) from the guest's networks" },
      { path: xen.sql, content: databaseSql(input.database, input.owner, input.verifier), mode: 0o600, description: "The owner (with the password's SCRAM verifier, never the password) and its database" },
      { path: xen.rotate, content: rotateSql(input.owner), mode: 0o644, description: "How a new password is set (the portal's password rotation)" },
      {
        path: xen.apply,
        content: `#!/bin/sh
# The portal's postgres recipe at every boot, once Debian's cluster 15/main runs: the owner and the database when missing.
${databaseLines({ sql: xen.sql, psql, sum: "sha256sum", as })}`,
        mode: 0o700,
        description: "Makes the owner and the database at boot (run by portal-postgres.service)",
      },
      {
        path: xen.unit,
        content: `[Unit]
Description=Owner and database of the portal's postgres recipe
After=postgresql@15-main.service
Requires=postgresql@15-main.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${xen.apply}

[Install]
WantedBy=multi-user.target
`,
        mode: 0o644,
        description: "systemd: the owner and the database once the cluster runs, at every boot",
      },
      { path: GUEST_HOOKS["set-password"], content: setPasswordHook({ shell: "/bin/sh", grep: "grep", psql, rotate: xen.rotate, as }), mode: 0o700, description: "Hook the portal runs (xl console) to set a new password from its verifier" },
      { path: GUEST_HOOKS.quiesce, content: checkpointHook({ shell: "/bin/sh", psql, as }), mode: 0o700, description: "Hook the portal runs before a backup's snapshot: CHECKPOINT" },
    ],
    commands: [
      { argv: ["test", "-x", `${xen.bin}/postgres`], description: "The image has Debian's PostgreSQL 15 (package postgresql-15)" },
      { argv: ["test", "-f", "/var/lib/postgresql/15/main/PG_VERSION"], description: "Its cluster 15/main is there (the package made it)" },
      { argv: ["chown", "postgres:postgres", `${xen.conf}/pg_hba.conf`, `${xen.conf}/conf.d/portal.conf`], description: "The server's account reads its settings" },
      { argv: ["systemctl", "enable", "postgresql.service"], description: "Start the cluster at boot (pg_ctlcluster 15 main start)" },
      { argv: ["systemctl", "enable", "portal-postgres.service"], description: "Make the owner and the database once the cluster runs" },
    ],
    check: { argv: ["nc", "-z", "-w", "5", input.address, "5432"], ready: "^", description: `PostgreSQL accepts connections on ${input.address} port 5432` },
  };
}

export function postgresZonePlan(input: HostPlanInput): RecipeHostPlan {
  // Solaris 10: ksh for $(...), XPG4 grep for -E, su to the account's own shell, digest for sha256.
  const as = (cmd: string) => `su postgres -c "${cmd}"`;
  const psql = `${zone.bin}/psql`;
  const apply = `#!/bin/ksh
# The portal's postgres recipe in a Solaris zone: apply account|initdb|start|stop|database.
PG=${zone.bin}
PGDATA=${zone.data}
[ -x $PG/postgres ] || { echo "PostgreSQL 15 is not in this image (expected under ${zone.bin})"; exit 1; }
case "$1" in
account)
  getent group postgres >/dev/null || groupadd -g 90 postgres || exit 1
  getent passwd postgres >/dev/null || useradd -u 90 -g postgres -d $PGDATA -s /bin/sh postgres || exit 1
  ;;
initdb)
  [ -s $PGDATA/PG_VERSION ] && exit 0
  rm -rf $PGDATA.new && mkdir -p $PGDATA.new && chown postgres:postgres $PGDATA.new && chmod 700 $PGDATA.new || exit 1
  ${as("TZ=UTC $PG/initdb -D $PGDATA.new -U postgres -E UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256")} || exit 1
  echo "include_if_exists = '${zone.settings}'" >> $PGDATA.new/postgresql.conf
  mv $PGDATA.new $PGDATA
  ;;
start)
  cp ${zone.hba} $PGDATA/pg_hba.conf && chown postgres:postgres $PGDATA/pg_hba.conf && chmod 600 $PGDATA/pg_hba.conf || exit 1
  mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
  ${as("$PG/pg_ctl -D $PGDATA status")} >/dev/null 2>&1 && exit 0
  ${as("$PG/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -t 300 start")}
  ;;
stop)
  ${as("$PG/pg_ctl -D $PGDATA -m fast -w -t 60 stop")}
  ;;
database)
${databaseLines({ sql: zone.sql, psql, sum: "digest -a sha256", as }).replace(/^/gm, "  ").trimEnd()}
  ;;
*) echo "usage: apply account|initdb|start|stop|database"; exit 2 ;;
esac
`;
  return {
    files: [
      { path: zone.settings, content: serverSettings({ listen: input.listen, socketDir: "/var/run/postgresql" }), mode: 0o644, description: "Server settings: the zone's addresses, port 5432, SCRAM-SHA-256, UTC" },
      { path: zone.hba, content: hbaConf, mode: 0o644, description: "Who may connect: passwords (SCRAM-SHA-256) from the zone's networks" },
      { path: zone.sql, content: databaseSql(input.database, input.owner, input.verifier), mode: 0o600, description: "The owner (with the password's SCRAM verifier, never the password) and its database" },
      { path: zone.rotate, content: rotateSql(input.owner), mode: 0o644, description: "How a new password is set (the portal's password rotation)" },
      { path: zone.apply, content: apply, mode: 0o700, description: "The recipe's steps in the zone: account, cluster on /data, server, owner and database" },
      {
        path: zone.manifest,
        content: `<?xml version="1.0"?>
<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1">
<service_bundle type="manifest" name="portal-postgres">
  <service name="application/database/portal-postgres" type="service" version="1">
    <create_default_instance enabled="false"/>
    <single_instance/>
    <dependency name="fs" grouping="require_all" restart_on="none" type="service">
      <service_fmri value="svc:/system/filesystem/local"/>
    </dependency>
    <dependency name="net" grouping="require_all" restart_on="none" type="service">
      <service_fmri value="svc:/network/physical"/>
    </dependency>
    <exec_method type="method" name="start" exec="${zone.apply} start" timeout_seconds="300"/>
    <exec_method type="method" name="stop" exec="${zone.apply} stop" timeout_seconds="90"/>
  </service>
</service_bundle>
`,
        mode: 0o644,
        description: "SMF: PostgreSQL started at every boot of the zone",
      },
      { path: GUEST_HOOKS["set-password"], content: setPasswordHook({ shell: "/bin/ksh", grep: "/usr/xpg4/bin/grep", psql, rotate: zone.rotate, as }), mode: 0o700, description: "Hook the portal runs (zlogin) to set a new password from its verifier" },
      { path: GUEST_HOOKS.quiesce, content: checkpointHook({ shell: "/bin/ksh", psql, as }), mode: 0o700, description: "Hook the portal runs before a backup's ZFS snapshot: CHECKPOINT" },
    ],
    commands: [
      { argv: [zone.apply, "account"], description: "The server's account postgres (uid 90)" },
      { argv: [zone.apply, "initdb"], description: `The cluster on the zone's /data dataset (${zone.data}), made once` },
      { argv: ["svccfg", "import", zone.manifest], description: "Register the server with SMF" },
      { argv: ["svcadm", "enable", "-s", zone.fmri], description: "Start PostgreSQL 15 and wait until SMF says online" },
      { argv: [zone.apply, "database"], description: "The owner and the database, when missing" },
    ],
    check: { argv: [`${zone.bin}/pg_isready`, "-h", "127.0.0.1", "-p", "5432"], ready: "accepting connections", description: "PostgreSQL in the zone accepts connections on port 5432" },
  };
}
