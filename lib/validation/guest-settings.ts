/**
 * Names and values an order may put into a guest: accounts, sysctl settings and the service's
 * environment variables. The glue (lib/drivers/qemu/glue.ts, the Xen and zones plans) checks
 * them again with these same patterns before anything reaches a guest; the order form and
 * the API check them first, with messages. Nothing here is read by a shell unquoted, and none
 * of them admits a shell's special characters. The browser loads this file too.
 */

/** Login names an order may add: lower case, not one the images or their services use. */
export const accountNamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;
export const reservedAccountNames = new Set(["root", "daemon", "bin", "sys", "sync", "nobody", "postgres", "www-data", "sshd", "portal", "admin", "adm", "lp", "mail", "news", "uucp", "operator", "games", "man", "proxy", "backup", "list", "irc", "staff", "users", "wheel", "sudo", "disk", "shadow", "utmp", "tty", "kmem", "dialout"]);
/** Groups an account may join: the same names, and two of the reserved ones (users, staff). */
export const joinableReservedGroups = new Set(["users", "staff"]);
export const sysctlKeyPattern = /^[a-z0-9_]+(\.[a-z0-9_-]+){1,6}$/;
/** sysctl values: numbers and words, spaces between; nothing a shell would read specially. */
export const sysctlValuePattern = /^[A-Za-z0-9._:/, -]{1,200}$/;
export const envNamePattern = /^[A-Z_][A-Z0-9_]{0,63}$/;
export const envValuePattern = /^[A-Za-z0-9 ._:/,@%+=-]{0,256}$/;
/** One authorized_keys line the guests take (their SSH servers know these key types). */
export const sshKeyLinePattern = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{16,8192}( [^\0\r\n]{0,200})?$/;
/** The first uid the portal gives an order's accounts (each its own group, gid = uid). */
export const firstAccountUid = 1001;
