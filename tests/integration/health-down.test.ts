/**
 * The health route when a dependency is down: 503 within its 2-second bound, naming what is
 * down. Redis here is a port where nothing listens (this file's process only).
 */
import { expect, it } from "vitest";

process.env.REDIS_URL = "redis://127.0.0.1:1";
const { GET } = await import("@/app/api/health/route");

it("answers 503 naming Redis when Redis does not answer, and still reports the database", async () => {
  const started = Date.now();
  const res = await GET();
  expect(res.status).toBe(503);
  const body = (await res.json()) as { status: string; database: { ok: boolean }; redis: { ok: boolean; error?: string } };
  expect(body.status).toBe("degraded");
  expect(body.database).toEqual({ ok: true });
  expect(body.redis.ok).toBe(false);
  expect(body.redis.error).toBeTruthy();
  expect(Date.now() - started).toBeLessThan(5000);
});
