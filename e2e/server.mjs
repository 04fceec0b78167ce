// The portal for the end-to-end tests: a fresh PostgreSQL database, a build when the sources
// changed, then `next start` on port 3210 with the embedded worker and fast sim steps.
// Playwright starts this (playwright.config.ts, webServer) and stops it with SIGTERM.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PORT = 3210;
const ADMIN_URL = process.env.E2E_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = "portal_e2e";
const DB_URL = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();
/** Same values as e2e/users.ts. */
const ADMIN_EMAIL = "admin@portal.local";
const ADMIN_PASSWORD = "e2e-admin-password-1";
const AUTH_SECRET = "e2e-auth-secret-not-for-production-0123456789";

const log = (line) => console.log(`[e2e-server] ${line}`);

function portInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function freshDatabase() {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(`drop database if exists ${DB_NAME} with (force)`);
    await client.query(`create database ${DB_NAME}`);
  } finally {
    await client.end();
  }
}

/** Newest modification time of the files a build is made from. */
function newestSource() {
  const sources = ["app", "components", "lib", "workers", "public", "drizzle", "instrumentation.ts", "next.config.js", "postcss.config.mjs", "package-lock.json", "tsconfig.json"];
  let latest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    latest = Math.max(latest, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
  };
  for (const s of sources) visit(path.join(root, s));
  return latest;
}

function run(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");

async function main() {
  if (await portInUse(PORT)) {
    console.error(`[e2e-server] port ${PORT} is already in use; stop whatever listens there and run the tests again`);
    process.exit(1);
  }
  const t0 = Date.now();
  await freshDatabase();
  log(`database ${DB_NAME} created (${Date.now() - t0} ms)`);

  const buildId = path.join(root, ".next", "BUILD_ID");
  const baseEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  if (process.env.E2E_SKIP_BUILD !== "1" && (!existsSync(buildId) || statSync(buildId).mtimeMs < newestSource())) {
    log("building (no build yet, or the sources are newer than it)");
    const t1 = Date.now();
    const code = await run([nextBin, "build"], baseEnv);
    if (code !== 0) {
      console.error("[e2e-server] next build failed");
      process.exit(1);
    }
    log(`built in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  } else {
    log("build is up to date");
  }

  mkdirSync(path.join(root, "test-results"), { recursive: true });
  const serverLog = createWriteStream(path.join(root, "test-results", "e2e-server.log"));
  const child = spawn(process.execPath, [nextBin, "start", "-p", String(PORT), "-H", "127.0.0.1"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...baseEnv,
      NODE_ENV: "production",
      DATABASE_URL: DB_URL,
      REDIS_PREFIX: `e2e_${process.pid}`,
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
