/**
 * Order submission as one group's history grows: submits ORDERS orders (default 1000) in one
 * group, CONCURRENCY at a time (default 20), against a fresh database on PostgreSQL, and
 * prints submissions per second for the first and the last 100. No worker runs, so every
 * order stays live (queued) and counts against the group's quota, as delivered ones do.
 * HISTORY=n first gives the group n retired orders (its past), as many again to other groups.
 *
 *   npx tsx scripts/bench-group-orders.ts            # TEST_PG_ADMIN_URL, REDIS_URL as the tests use them
 *   HISTORY=20000 npx tsx scripts/bench-group-orders.ts
 *
 * The database and the Redis keys it makes are dropped at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { deleteRedisKeys, dropDatabase, freshDatabase } from "./lib.mjs";

const total = Number(process.env.ORDERS ?? 1000);
const concurrency = Number(process.env.CONCURRENCY ?? 20);
const history = Number(process.env.HISTORY ?? 0);
const adminUrl = process.env.TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const suffix = randomBytes(4).toString("hex");
const dbName = `portal_it_bench_orders_${suffix}`;
const prefix = `it_bench_orders_${suffix}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "portal-bench-orders-"));

Object.assign(process.env, {
  DATABASE_URL: await freshDatabase(adminUrl, dbName),
  REDIS_URL: redisUrl,
  REDIS_PREFIX: prefix,
  DATA_DIR: dataDir,
  AUTH_SECRET: `bench-secret-${suffix}-${suffix}`,
  LOG_LEVEL: "warn",
});

const { getDb, closeDb } = await import("../lib/db/client");
const { seedIfEmpty } = await import("../lib/db/seed");
const { createOrder } = await import("../lib/orders/queries");
const { createUser } = await import("../lib/users/queries");
const { groups } = await import("../lib/db/schema");
const { closeQueues } = await import("../lib/jobs/queues");
const { sql } = await import("drizzle-orm");
const { closeRedis } = await import("../lib/redis");

try {
  const db = await getDb();
  await seedIfEmpty(db, { adminEmail: "admin@bench.test", adminPasswordHash: async () => "x" });
  const [group] = await db.insert(groups).values({ slug: `bench-${suffix}`, name: "Bench", autoApprove: true }).returning();
  const user = await createUser(db, null, { email: `bench-${suffix}@bench.test`, name: "Bench", role: "customer", password: "password-for-bench", group: group.slug });
  const actor = { id: user.id, role: user.role, email: user.email };
  if (history > 0) {
    // The past, in one statement per group: retired orders of this group and of another.
    const [other] = await db.insert(groups).values({ slug: `other-${suffix}`, name: "Other", autoApprove: true }).returning();
    for (const g of [group.id, other.id]) {
      await db.execute(sql`
        insert into orders (user_id, group_id, image_id, flavor_id, network_id, name, purpose, lease_days, status)
        select ${user.id}, ${g}, (select id from images where slug = 'linux-test'), (select id from flavors where slug = 'small'),
               (select id from networks where purpose = 'production' limit 1), 'past-' || ${g} || '-' || n, 'test', 14, 'retired'
        from generate_series(1, ${history}) n`);
    }
    await db.execute(sql`analyze orders`);
  }

  // Warm up (connections, plans) in a group of its own, so the first 100 measure the group.
  const [warm] = await db.insert(groups).values({ slug: `warm-${suffix}`, name: "Warm-up", autoApprove: true }).returning();
  const warmUser = await createUser(db, null, { email: `warm-${suffix}@bench.test`, name: "Warm", role: "customer", password: "password-for-bench", group: warm.slug });
  await Promise.all(Array.from({ length: concurrency }, (_, i) => createOrder(db, { id: warmUser.id, role: warmUser.role, email: warmUser.email }, { image: "linux-test", flavor: "small", name: `warm-${i}` })));

  const finishedAt: number[] = [];
  let next = 0;
  const start = performance.now();
  async function lane() {
    while (next < total) {
      const i = next++;
      await createOrder(db, actor, { image: "linux-test", flavor: "small", name: `bench-${i}` });
      finishedAt.push(performance.now());
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const rate = (from: number, to: number) => {
    const t0 = from === 0 ? start : finishedAt[from - 1];
    return (to - from) / ((finishedAt[to - 1] - t0) / 1000);
  };
  console.log(`history: ${history} retired orders in the group, ${history} in another`);
  console.log(`${total} orders in one group, ${concurrency} at a time: ${(total / ((finishedAt[total - 1] - start) / 1000)).toFixed(1)} orders/s overall`);
  console.log(`first 100: ${rate(0, 100).toFixed(1)} orders/s; last 100: ${rate(total - 100, total).toFixed(1)} orders/s`);
  // What the quota check costs now, alone: the group's and the user's usage, as under the lock.
  const { usageOf } = await import("../lib/policy/quota");
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) {
    await usageOf(db, { groupId: group.id });
    await usageOf(db, { userId: user.id });
  }
  console.log(`quota usage (group + user) with ${total} live orders: ${((performance.now() - t0) / 50).toFixed(2)} ms`);
  if (process.env.KEEP) console.log(`kept ${dbName}`);
} finally {
  await closeQueues().catch(() => {});
  await closeRedis().catch(() => {});
  await closeDb().catch(() => {});
  if (!process.env.KEEP) await dropDatabase(adminUrl, dbName);
  await deleteRedisKeys(redisUrl, prefix);
  rmSync(dataDir, { recursive: true, force: true });
}
