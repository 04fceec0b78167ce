/**
 * Runs before each integration test file, in that file's own process: creates the file's
 * database and Redis prefix and points lib/env.ts at them (the test file imports lib/ after
 * this), then closes everything and drops both when the file is done.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect } from "vitest";
import { createTestDatabase, deleteRedisPrefix, dropTestDatabase, randomSuffix, redisUrl, slugFor } from "./infra";

const testPath = expect.getState().testPath ?? "integration";
const label = slugFor(path.basename(testPath).replace(/\.test\.ts$/, ""), 20);

const database = await createTestDatabase(label);
const redisPrefix = `it_${label}_${randomSuffix()}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), `portal-it-${label}-`));

Object.assign(process.env, {
  DATABASE_URL: database.url,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: redisPrefix,
  DATA_DIR: dataDir,
  AUTH_SECRET: `it-secret-${randomSuffix()}-${randomSuffix()}`,
  ADMIN_EMAIL: "admin@portal.test",
  ADMIN_PASSWORD: "admin-password-for-tests",
  SIM_STEP_MS: "0",
  PORTAL_EMBEDDED_WORKER: "0",
  WORKER_CONCURRENCY: "8",
  JOB_LOCK_MS: "30000",
  RECONCILE_INTERVAL_MS: "30000",
  CAMPAIGN_TICK_MS: "250",
  LOG_LEVEL: "warn",
});

afterAll(async () => {
  // Registered first, so it runs after the test file's own afterAll (hooks run as a stack).
  const { closeQueues } = await import("@/lib/jobs/queues");
  const { closeRedis } = await import("@/lib/redis");
  const { closeDb } = await import("@/lib/db/client");
  await closeQueues().catch(() => {});
  await closeRedis().catch(() => {});
  await closeDb().catch(() => {});
  (globalThis as { __portalSub?: { redis: { disconnect(): void } } }).__portalSub?.redis.disconnect();
  await dropTestDatabase(database.name);
  await deleteRedisPrefix(redisPrefix);
  rmSync(dataDir, { recursive: true, force: true });
});
