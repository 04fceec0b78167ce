/**
 * Real PostgreSQL and Redis for integration tests: a database and a key prefix per test file.
 * Nothing here imports lib/ (lib/env.ts parses process.env once, at import), so the set-up
 * can choose the configuration first.
 *
 * TEST_PG_ADMIN_URL: a role that may CREATE DATABASE (default postgres@127.0.0.1:5432).
 * TEST_REDIS_URL: the Redis the tests share, keys kept apart by prefix (default 127.0.0.1:6379).
 */
import { randomBytes } from "node:crypto";
import { deleteRedisKeys, dropDatabase, freshDatabase } from "../../scripts/lib.mjs";

export const pgAdminUrl = process.env.TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Lowercase letters, digits and underscores, safe inside an identifier and a Redis key. */
export function slugFor(text: string, max = 24): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, max) || "file";
}

export function randomSuffix(): string {
  return randomBytes(4).toString("hex");
}

/** Creates an empty database `portal_it_<label>_<random>`; returns its name and URL. */
export async function createTestDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `portal_it_${slugFor(label)}_${randomSuffix()}`;
  return { name, url: await freshDatabase(pgAdminUrl, name) };
}

/** Drops the database even if a pool or a killed worker still holds connections. */
export async function dropTestDatabase(name: string): Promise<void> {
  if (!/^portal_it_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
  await dropDatabase(pgAdminUrl, name);
}

/** Deletes every key under `prefix:` (queues, rate limits); returns how many. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  if (!/^it_[a-z0-9_]+$/.test(prefix)) throw new Error(`refusing to clean ${prefix}: not a test prefix`);
  return deleteRedisKeys(redisUrl, prefix);
}
