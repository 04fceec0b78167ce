import { sql } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { missingSchedulers } from "@/lib/jobs/queues";
import { getRedis } from "@/lib/redis";

export const dynamic = "force-dynamic";

async function check<T>(fn: () => Promise<T>): Promise<{ ok: boolean; error?: string; value?: T }> {
  try {
    const value = await Promise.race([fn(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), 2000).unref())]);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : "unavailable" };
  }
}

/**
 * 503 when the database or Redis does not answer (this process cannot serve). The job
 * schedulers (reconciler, lease and course sweeps) missing from Redis, e.g. after it lost its
 * data, is "degraded" with 200: requests are served, background work waits until a worker
 * re-creates them (each worker checks every few seconds) or one starts.
 */
export async function GET() {
  const [database, redis] = await Promise.all([check(async () => (await getDb()).execute(sql`select 1`)), check(() => getRedis().ping())]);
  const schedulers = redis.ok ? await check(() => missingSchedulers()) : null;
  const missing = schedulers?.value ?? [];
  const body = {
    status: database.ok && redis.ok && schedulers?.ok && missing.length === 0 ? "ok" : "degraded",
    database: { ok: database.ok, ...(database.error ? { error: database.error } : {}) },
    redis: { ok: redis.ok, ...(redis.error ? { error: redis.error } : {}) },
    ...(schedulers
      ? {
          schedulers: schedulers.ok
            ? missing.length
              ? { ok: false, missing, error: `job schedulers missing from Redis: ${missing.join(", ")} (a worker re-creates them; is one running?)` }
              : { ok: true }
            : { ok: false, error: schedulers.error },
        }
      : {}),
  };
  return Response.json(body, { status: database.ok && redis.ok ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
