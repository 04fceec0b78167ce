import { randomBytes } from "node:crypto";
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
  RUN_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(8000),
  /**
   * SIGTERM: the worker stops each run after its current step; a step still running after
   * this long is aborted (and done again by the next worker). Keep it below the process
   * manager's stop timeout (systemd TimeoutStopSec, Docker/Kubernetes grace period).
   */
  WORKER_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /** How long the SSH transport waits for a host's TCP connect and SSH handshake. */
  SSH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
  LOGIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Outgoing mail: smtp://[user:pass@]host:port or smtps://...; unset = e-mail is skipped. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, "SMTP_URL is smtp://[user:password@]host[:port] or smtps://...").optional(),
  MAIL_FROM: z.string().email().default("portal@localhost"),
  /** The portal's public address, for links in e-mails (falls back to NEXTAUTH_URL). */
  PORTAL_URL: z.string().url().optional(),
  NEXTAUTH_URL: z.string().url().optional(),
  /** Days a stopped environment is kept after its lease ended before it is destroyed. */
  LEASE_GRACE_DAYS: z.coerce.number().min(0).max(365).default(3),
  /** Longest total lease an owner can extend to without an approver (unless a limit is set). */
  LEASE_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** How often leases and courses are checked (warnings, stop at expiry, retire). */
  LEASE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(500).default(600_000),
  /** How long an invitation link to set a password stays valid. */
  INVITATION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /** Golden and packed guest images (`npm run images:build`); default DATA_DIR/images. */
  IMAGE_STORE_DIR: z.string().min(1).optional(),
  /** How long a QEMU guest may take from start to its PORTAL-READY line (TCG is slow). */
  QEMU_READY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  /** How long a stop waits for the guest to power off after the ACPI button before QEMU is quit. */
  QEMU_STOP_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
});

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

export const isEmbeddedWorker = env.PORTAL_EMBEDDED_WORKER === "1";
