import { scramVerifierEre } from "../validation/database";

/**
 * Shell pieces of the database recipe shared by its renderings (busybox sh on QEMU, dash on
 * Debian, ksh on Solaris). No value of the order is in a command line here: names are in the
 * SQL files (checked literals), the verifier is read on standard input.
 */

/**
 * The lines that make the owner and database (`sql`), setting the owner's password only when
 * this deployment's file differs from the one applied last (see databaseSql). `sum` prints a
 * file's sha256, `as` runs a command line as the server's account.
 */
export function databaseLines(opts: { sql: string; psql: string; sum: string; as: (cmd: string) => string }): string {
  return `SUM=$(${opts.sum} ${opts.sql} | cut -c1-64)
LAST=$(cat /data/.portal/postgres-sql.applied 2>/dev/null || true)
NEW=off
if [ -n "$LAST" ] && [ "$LAST" != "$SUM" ]; then NEW=on; fi
${opts.as(`${opts.psql} -X -q -v ON_ERROR_STOP=1 -v apply_password=$NEW -d postgres`)} < ${opts.sql} || exit 1
mkdir -p /data/.portal
echo "$SUM" > /data/.portal/postgres-sql.applied
if [ "$NEW" = on ]; then echo "the owner's password is the one of this deployment (a rebuild brought a new one)"; fi
`;
}

/** The set-password hook: the verifier on standard input, checked, handed to psql on its standard input. */
export function setPasswordHook(opts: { shell: string; grep: string; psql: string; rotate: string; as: (cmd: string) => string }): string {
  return `#!${opts.shell}
# The owner's new password, as the SCRAM-SHA-256 verifier the portal computed from it (one
# line on standard input): the password itself never enters this guest.
IFS= read -r v || { echo "set-password: no verifier on standard input"; exit 2; }
printf '%s\\n' "$v" | ${opts.grep} -Eq '${scramVerifierEre}' || { echo "set-password: not a SCRAM-SHA-256 verifier"; exit 2; }
{ printf '\\\\set verifier %s\\n' "'$v'"; cat ${opts.rotate}; } | ${opts.as(`${opts.psql} -X -q -v ON_ERROR_STOP=1 -d postgres`)} || exit 1
echo "set-password: done"
`;
}

/** The quiesce hook where the disk copy is an atomic snapshot (LVM, ZFS): CHECKPOINT, so little is left to replay. */
export function checkpointHook(opts: { shell: string; psql: string; as: (cmd: string) => string }): string {
  return `#!${opts.shell}
# quiesce freeze|thaw around a backup's snapshot: the snapshot is atomic already (a crash-
# consistent point); CHECKPOINT first writes out every committed change, so the copy needs
# next to no recovery when it is booted.
case "$1" in
freeze) ${opts.as(`${opts.psql} -X -q -d postgres -c CHECKPOINT`)} && sync && echo "quiesce: CHECKPOINT done" ;;
thaw) echo "quiesce: nothing to thaw" ;;
*) echo "usage: quiesce freeze|thaw"; exit 2 ;;
esac
`;
}

