import { sql } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { getRedis } from "@/lib/redis";

export const dynamic = "force-dynamic";

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 2000).unref())]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : "unavailable" };
  }
}

/** 200 when the database and Redis answer, 503 when either does not. */
export async function GET() {
  const [database, redis] = await Promise.all([
    check(async () => (await getDb()).execute(sql`select 1`)),
    check(() => getRedis().ping()),
  ]);
  const ok = database.ok && redis.ok;
  return Response.json({ status: ok ? "ok" : "degraded", database, redis }, { status: ok ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
