// The portal for the end-to-end tests: a fresh PostgreSQL database, a build when the sources
// changed, then `next start` on port 3210 with the embedded worker and fast sim steps.
// Playwright starts this (playwright.config.ts, webServer) and stops it with SIGTERM.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deleteRedisKeys, ensureBuild, freshDatabase, nextStartArgs, portOpen, removeLocalQemu } from "../scripts/lib.mjs";

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


/**
 * E2E_QEMU=1: the portal also gets its two local QEMU hosts (qemu-1, qemu-2) with work folders
 * in a fresh DATA_DIR under /tmp, and the QEMU Linux images from the shared test image store
 * (TEST_IMAGE_STORE, default /tmp/portal-test-images; built or reused here first). When the
 * server stops, the guests it left are killed and its namespaces and folder removed.
 */
const QEMU = process.env.E2E_QEMU === "1";
const QEMU_DATA_DIR = `/tmp/portal-e2e-${PORT}`;
const QEMU_IMAGE_STORE = process.env.TEST_IMAGE_STORE ?? "/tmp/portal-test-images";

async function prepareQemu() {
  await cleanupQemu();
  mkdirSync(QEMU_DATA_DIR, { recursive: true });
  const t = Date.now();
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/images-build.ts"], {
    cwd: root,
    env: { ...process.env, IMAGE_STORE_DIR: QEMU_IMAGE_STORE, DATA_DIR: QEMU_DATA_DIR },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (built.status !== 0) throw new Error(`building the QEMU images failed:\n${built.stdout}${built.stderr}`);
  log(`QEMU images ready in ${QEMU_IMAGE_STORE} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return { DATA_DIR: QEMU_DATA_DIR, IMAGE_STORE_DIR: QEMU_IMAGE_STORE };
}

function emptyDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Kills QEMU processes under the e2e folder, removes the hosts' namespaces and cgroups, and the folder. */
async function cleanupQemu() {
  await removeLocalQemu(QEMU_DATA_DIR, ["qemu-1", "qemu-2"].map((name) => ({ name, workDir: path.join(QEMU_DATA_DIR, "hosts", name) })));
  rmSync(QEMU_DATA_DIR, { recursive: true, force: true });
}

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

  // Without QEMU, an empty image store: images built for `npm start` stay out of this catalog.
  const qemuEnv = QEMU ? await prepareQemu() : { IMAGE_STORE_DIR: emptyDir(`/tmp/portal-e2e-${PORT}-no-images`) };

  mkdirSync(path.join(root, "test-results"), { recursive: true });
  const serverLog = createWriteStream(path.join(root, "test-results", "e2e-server.log"));
  const child = spawn(process.execPath, nextStartArgs(root, PORT, "127.0.0.1"), {
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
      LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "12",
      // The tests act as their own reverse proxy: e2e/security.spec.ts signs in "from" other
      // addresses with X-Forwarded-For, so its per-address limit locks out no other test.
      TRUSTED_PROXIES: "127.0.0.1",
      RECONCILE_INTERVAL_MS: "5000",
      // Usage charts get points within seconds of a delivery (e2e/usage.spec.ts).
      USAGE_SAMPLE_MS: "5000",
      ...qemuEnv,
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
    void (QEMU ? cleanupQemu() : Promise.resolve()).finally(() => process.exit(stopping ? 0 : 1));
  });
}

main().catch((err) => {
  console.error("[e2e-server]", err instanceof Error ? err.message : err);
  process.exit(1);
});
