// The portal for the end-to-end tests: a fresh PostgreSQL database, a build when the sources
// changed, then `next start` on port 3210 with the embedded worker and fast sim steps.
// Playwright starts this (playwright.config.ts, webServer) and stops it with SIGTERM.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deleteRedisKeys, ensureBuild, freshDatabase, nextBin as nextBinOf, portOpen } from "../scripts/lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** E2E_PORT lets two checkouts run their end-to-end tests side by side (own database and prefix). */
const PORT = Number(process.env.E2E_PORT || 3210);
const ADMIN_URL = process.env.E2E_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = PORT === 3210 ? "portal_e2e" : `portal_e2e_${PORT}`;
/** Same values as e2e/users.ts. */
const ADMIN_EMAIL = "admin@portal.local";
const ADMIN_PASSWORD = "e2e-admin-password-1";
const AUTH_SECRET = "e2e-auth-secret-not-for-production-0123456789";

const log = (line) => console.log(`[e2e-server] ${line}`);

/** One end-to-end server at a time (fixed port), so a fixed Redis prefix, emptied at start. */
const REDIS_PREFIX = PORT === 3210 ? "e2e" : `e2e_${PORT}`;

const nextBin = nextBinOf(root);

async function main() {
  if (await portOpen("127.0.0.1", PORT)) {
    console.error(`[e2e-server] port ${PORT} is already in use; stop whatever listens there and run the tests again`);
    process.exit(1);
  }
  const t0 = Date.now();
  const dbUrl = await freshDatabase(ADMIN_URL, DB_NAME);
  await deleteRedisKeys(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", REDIS_PREFIX);
  log(`database ${DB_NAME} created (${Date.now() - t0} ms)`);

  const baseEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  if (process.env.E2E_SKIP_BUILD !== "1") {
    const t1 = Date.now();
    if (!(await ensureBuild(root))) {
      console.error("[e2e-server] next build failed");
      process.exit(1);
    }
    log(`build ready in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }

  mkdirSync(path.join(root, "test-results"), { recursive: true });
  const serverLog = createWriteStream(path.join(root, "test-results", "e2e-server.log"));
  const child = spawn(process.execPath, [nextBin, "start", "-p", String(PORT), "-H", "127.0.0.1"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...baseEnv,
      NODE_ENV: "production",
      DATABASE_URL: dbUrl,
      REDIS_PREFIX,
      PORTAL_EMBEDDED_WORKER: "1",
      SIM_STEP_MS: "400",
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      NEXTAUTH_URL: `http://127.0.0.1:${PORT}`,
      AUTH_SECRET,
      LOGIN_MAX_ATTEMPTS: "5",
      RECONCILE_INTERVAL_MS: "5000",
    },
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk) => {
      serverLog.write(chunk);
      process.stdout.write(chunk);
    });
  }
  log(`next start on http://127.0.0.1:${PORT} (pid ${child.pid}); log in test-results/e2e-server.log`);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    child.kill(signal);
    // The server stops its workers first; give it a moment, then make sure it is gone.
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  child.once("exit", (code, signal) => {
    serverLog.end();
    if (!stopping) console.error(`[e2e-server] next start exited unexpectedly (${signal ?? code})`);
    process.exit(stopping ? 0 : 1);
  });
}

main().catch((err) => {
  console.error("[e2e-server]", err instanceof Error ? err.message : err);
  process.exit(1);
});
