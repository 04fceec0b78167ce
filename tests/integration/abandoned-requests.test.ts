/**
 * A request whose client went away stops using the database: its running statement is
 * cancelled on PostgreSQL, and a statement that runs too long is cancelled by the server.
 */
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { connectPg, getDb, isAbandoned, whileRequested } from "@/lib/db/client";
import { env } from "@/lib/env";

const db = await getDb();

async function runningSleeps(): Promise<number> {
  const result = (await db.execute(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and query like 'select pg_sleep(%'`)) as unknown as { rows: { n: number }[] };
  return result.rows[0].n;
}

describe("abandoned requests", () => {
  it("cancel the statement they were running when the client goes away", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = whileRequested(controller.signal, async () => await db.execute(sql`select pg_sleep(20)`));
    await expect.poll(runningSleeps, { timeout: 5000 }).toBe(1);
    controller.abort();
    expect(isAbandoned(await running.then(() => null, (e: Error) => e))).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(runningSleeps, { timeout: 5000 }).toBe(0);
    // A later statement of the same request does not start at all; others are unaffected.
    expect(isAbandoned(await whileRequested(controller.signal, async () => await db.execute(sql`select 1`)).then(() => null, (e: Error) => e))).toBe(true);
    expect(((await db.execute(sql`select 1 as one`)) as unknown as { rows: { one: number }[] }).rows[0].one).toBe(1);
  });

  it("are bounded by the statement timeout on every connection", async () => {
    const handle = await connectPg(env.DATABASE_URL!, { max: 1, statementTimeoutMs: 300 });
    try {
      const started = Date.now();
      const err = await handle.db.execute(sql`select pg_sleep(5)`).then(() => null, (e: Error) => e);
      expect((err?.cause as Error | undefined)?.message).toMatch(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await handle.close();
    }
  });
});
