import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * Configuration, parsed once. `process.env` is read here and nowhere else in lib/, app/ or
 * workers/ (scripts/ are launchers and read it for themselves).
 */
const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default(".data"),
  /**
   * Longest a single SQL statement may run on PostgreSQL before the server cancels it (ms; 0 =
   * no limit). Guards the pool against a runaway query; migrations run without it.
   */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/).default("portal"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  AUTH_SECRET: z.string().min(16).optional(),
  NEXTAUTH_SECRET: z.string().min(16).optional(),
  ADMIN_EMAIL: z.string().email().default("admin@portal.local"),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  SIM_STEP_MS: z.coerce.number().int().min(0).max(600_000).default(1500),
  PORTAL_EMBEDDED_WORKER: z.enum(["0", "1"]).default("0"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(8),
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * A worker's claim on a run it executes, renewed every quarter of it: a killed worker's runs
   * are taken over this long after its last renewal.
   */
  RUN_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(6000),
  /**
   * SIGTERM: the worker stops each run after its current step; a step still running after
   * this long is aborted (and done again by the next worker). Keep it below the process
   * manager's stop timeout (systemd TimeoutStopSec, Docker/Kubernetes grace period).
   */
  WORKER_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /**
   * This worker's identity: hosts it owns (local QEMU hosts) run their work only here. One id
   * per machine; the default is the machine's host name.
   */
  WORKER_ID: z.string().regex(/^[a-zA-Z0-9._-]{1,63}$/, "letters, digits, '.', '_' and '-' only").optional(),
  /** A worker whose heartbeat is older than this is offline: its hosts' orders wait for it. */
  WORKER_OFFLINE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** How long the SSH transport waits for a host's TCP connect and SSH handshake. */
  SSH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
  LOGIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  /**
   * Failed sign-ins one client address may make in 15 minutes, whatever the accounts: one
   * address cannot try a password on many accounts. An office behind one NAT shares it.
   */
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: z.coerce.number().int().min(1).default(30),
  /**
   * Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges, comma
   * separated (e.g. "127.0.0.1,::1" for a local nginx). Empty (the default): no header is
   * believed and the client is the address the connection came from.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean))
    .refine((list) => list.every(isAddressOrRange), "TRUSTED_PROXIES is a comma-separated list of IP addresses or CIDR ranges (10.0.0.0/8, ::1)"),
  /**
   * GET /metrics (Prometheus text) answers a scraper that sends `Authorization: Bearer
   * <METRICS_TOKEN>` (at least 24 characters; a secret good for nothing else), or any client
   * whose address is in METRICS_ALLOW (addresses or CIDR ranges, comma separated, as
   * TRUSTED_PROXIES). With neither set, /metrics is off.
   */
  METRICS_TOKEN: z.string().min(24, "METRICS_TOKEN needs at least 24 characters (e.g. openssl rand -hex 24)").optional(),
  METRICS_ALLOW: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean))
    .refine((list) => list.every(isAddressOrRange), "METRICS_ALLOW is a comma-separated list of IP addresses or CIDR ranges (10.0.0.0/8, ::1)"),
  /** How long one reading of the figures is served again to further scrapes (several scrapers, several web processes). */
  METRICS_CACHE_MS: z.coerce.number().int().min(0).default(5_000),
  /** Set by Next.js: "development" under `next dev` (the CSP then allows what dev tools need). */
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * Outgoing mail: smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://... (TLS
   * from the start); the query sets further SMTP options (`?requireTLS=true`). Unset = no e-mail.
   */
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, "SMTP_URL is smtp://[user:password@]host[:port] or smtps://...").optional(),
  MAIL_FROM: z.string().email().default("portal@localhost"),
  /** Tries per e-mail before it is marked failed (the audit log says so). */
  MAIL_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  /**
   * The wait before an e-mail's first retry, doubled before each next one: with 1 minute and
   * 10 tries, a mail server may be down for about 8.5 hours before a mail is given up.
   */
  MAIL_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
  /** The portal's public address, for links in e-mails (falls back to NEXTAUTH_URL). */
  PORTAL_URL: z.string().url().optional(),
  NEXTAUTH_URL: z.string().url().optional(),
  /**
   * "1": customers, approvers and students see that an image runs on simulated hosts (a demo
   * portal); by default only admins see the "Simulated" host kind in the catalog and order form.
   */
  SHOW_SIMULATED_TO_CUSTOMERS: z.enum(["0", "1"]).default("0"),
  /** Days a stopped environment is kept after its lease ended before it is destroyed. */
  LEASE_GRACE_DAYS: z.coerce.number().min(0).max(365).default(3),
  /** Longest total lease an owner can extend to without an approver (unless a limit is set). */
  LEASE_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** How often leases and courses are checked (warnings, stop at expiry, retire). */
  LEASE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(500).default(600_000),
  /** How often every running environment's and every host's use is sampled (lib/usage). */
  USAGE_SAMPLE_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Hosts sampled at once; how long one host or guest may take to answer. */
  USAGE_HOST_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  USAGE_TIMEOUT_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * How long a failed order keeps what a retry needs (its environment's host, its addresses,
   * what was built on the host); then the maintenance sweep releases them.
   */
  FAILED_HOLD_HOURS: z.coerce.number().min(0).max(24 * 365).default(24),
  /** How long an invitation link to set a password stays valid. */
  INVITATION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /** Golden and packed guest images (`npm run images:build`); default DATA_DIR/images. */
  IMAGE_STORE_DIR: z.string().min(1).optional(),
  /** The backup store (compressed disk copies of environments); default DATA_DIR/backups. */
  BACKUP_DIR: z.string().min(1).optional(),
  /** How long a QEMU guest may take from start to its PORTAL-READY line (TCG is slow). */
  QEMU_READY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  /** How long a stop waits for the guest to power off after the ACPI button before QEMU is quit. */
  QEMU_STOP_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  /** How often a running patch campaign looks at its environments' backups and reinstalls. */
  CAMPAIGN_TICK_MS: z.coerce.number().int().min(100).max(600_000).default(1000),
  /**
   * Single sign-on (OpenID Connect: Keycloak, Entra ID, Authentik): the issuer, and the
   * portal's client there (redirect URI <portal>/api/auth/callback/oidc). All three or none.
   */
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** The sign-in button says "Sign in with <OIDC_NAME>". */
  OIDC_NAME: z.string().min(1).max(60).default("single sign-on"),
  OIDC_SCOPES: z.string().regex(/(^|\s)openid(\s|$)/, "OIDC_SCOPES must include openid").default("openid email profile"),
  /** The claim (in the ID token or from the userinfo endpoint) that lists the user's groups. */
  OIDC_GROUPS_CLAIM: z.string().min(1).default("groups"),
  /** The directory (LDAP): ldap://host[:port] (StartTLS with LDAP_STARTTLS=1) or ldaps://host[:port]. */
  LDAP_URL: z.string().regex(/^ldaps?:\/\/[^\s/]+\/?$/, "LDAP_URL is ldap://host[:port] or ldaps://host[:port]").optional(),
  /** The account the portal searches with; without it the search is anonymous. */
  LDAP_BIND_DN: z.string().min(1).optional(),
  LDAP_BIND_PASSWORD: z.string().min(1).optional(),
  LDAP_STARTTLS: z.enum(["0", "1"]).default("0"),
  /** PEM file of the CA that signed the directory's certificate (else the system's CAs). */
  LDAP_TLS_CA_FILE: z.string().min(1).optional(),
  LDAP_USER_BASE: z.string().min(1).optional(),
  /** {login} is what the user typed, escaped. Active Directory: (sAMAccountName={login}). */
  LDAP_USER_FILTER: z.string().includes("{login}", { message: "LDAP_USER_FILTER must contain {login}" }).default("(|(uid={login})(mail={login}))"),
  LDAP_EMAIL_ATTRIBUTE: z.string().min(1).default("mail"),
  LDAP_NAME_ATTRIBUTE: z.string().min(1).default("cn"),
  /**
   * Groups: entries under LDAP_GROUP_BASE matching LDAP_GROUP_FILTER ({dn} is the user's DN),
   * and the DNs in the user's memberOf attribute (Active Directory) when it has one.
   */
  LDAP_GROUP_BASE: z.string().min(1).optional(),
  LDAP_GROUP_FILTER: z.string().includes("{dn}", { message: "LDAP_GROUP_FILTER must contain {dn}" }).default("(|(member={dn})(uniqueMember={dn}))"),
  /** The sign-in form's title for directory accounts, e.g. "University account". */
  LDAP_NAME: z.string().min(1).max(60).default("Directory account"),
  /** How long a directory may take to answer before sign-in says it cannot be reached. */
  LDAP_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).default(5000),
}).superRefine((e, ctx) => {
  const oidc = [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET];
  if (oidc.some(Boolean) && !oidc.every(Boolean)) {
    ctx.addIssue({ code: "custom", path: ["OIDC_ISSUER"], message: "set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together" });
  }
  if (e.LDAP_URL && !e.LDAP_USER_BASE) ctx.addIssue({ code: "custom", path: ["LDAP_USER_BASE"], message: "LDAP_URL needs LDAP_USER_BASE (where to search for users)" });
  if (Boolean(e.LDAP_BIND_DN) !== Boolean(e.LDAP_BIND_PASSWORD)) {
    ctx.addIssue({ code: "custom", path: ["LDAP_BIND_DN"], message: "set LDAP_BIND_DN and LDAP_BIND_PASSWORD together" });
  }
  if (e.LDAP_STARTTLS === "1" && e.LDAP_URL?.startsWith("ldaps:")) {
    ctx.addIssue({ code: "custom", path: ["LDAP_STARTTLS"], message: "LDAP_STARTTLS is for ldap:// URLs; ldaps:// is TLS already" });
  }
});

function isAddressOrRange(text: string): boolean {
  const [address, bits, extra] = text.split("/");
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export type Env = z.infer<typeof schema>;

function parse(): Env {
  const result = schema.safeParse(process.env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

export const env = parse();

/** The secret that signs sessions: from AUTH_SECRET/NEXTAUTH_SECRET, else kept in DATA_DIR. */
export function authSecret(): string {
  const given = env.AUTH_SECRET ?? env.NEXTAUTH_SECRET;
  if (given) return given;
  const file = path.join(env.DATA_DIR, "auth-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(env.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The image store: IMAGE_STORE_DIR, else DATA_DIR/images, as an absolute path. */
// Not a build-time path: tell the bundler not to trace the project through it.
export const imageStoreDir = path.resolve(/*turbopackIgnore: true*/ env.IMAGE_STORE_DIR ?? path.join(env.DATA_DIR, "images"));

/** The backup store: BACKUP_DIR, else DATA_DIR/backups, as an absolute path. */
export const backupStoreDir = path.resolve(/*turbopackIgnore: true*/ env.BACKUP_DIR ?? path.join(env.DATA_DIR, "backups"));

export const isEmbeddedWorker = env.PORTAL_EMBEDDED_WORKER === "1";

/** This worker's identity (WORKER_ID, else the machine's host name in the same alphabet). */
export const workerId = env.WORKER_ID ?? (hostname().replace(/[^a-zA-Z0-9._-]/g, "-").slice(0, 63) || "worker");

export const isDev = env.NODE_ENV === "development";

/**
 * Where links in e-mails and invitations point: PORTAL_URL, else NEXTAUTH_URL (which `npm start`
 * sets to http://localhost:$PORT), else nowhere absolute. `configured` is false without
 * PORTAL_URL, and pages that make links warn about it.
 */
export const linkBase = { configured: Boolean(env.PORTAL_URL), url: env.PORTAL_URL ?? env.NEXTAUTH_URL ?? null };

/** The portal is served over https (PORTAL_URL, else NEXTAUTH_URL): browsers may be told to keep to it (HSTS). */
export const servedOverHttps = (env.PORTAL_URL ?? env.NEXTAUTH_URL ?? "").startsWith("https:");
