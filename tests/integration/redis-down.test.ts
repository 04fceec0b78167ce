/**
 * Redis down (a port where nothing listens, for this file's process only): health says so
 * with 503, and an order placed meanwhile is still accepted and kept in the database with
 * its run queued, for the reconciler to enqueue once Redis is back.
 */
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";

process.env.REDIS_URL = "redis://127.0.0.1:1";
const { GET } = await import("@/app/api/health/route");
const { bootPortal, makeGroup, makeUser, order } = await import("../helpers/portal");
const { pipelineRuns } = await import("@/lib/db/schema");

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

it("accepts an order while Redis is down and keeps it queued in the database", async () => {
  const { db } = await bootPortal();
  const customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  const created = await order(db, customer);
  expect(created.status).toBe("queued");
  const runs = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, created.id));
  expect(runs.map((r) => [r.kind, r.status])).toEqual([["provision", "queued"]]);
}, 30_000);
