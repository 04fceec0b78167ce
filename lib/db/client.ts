import path from "node:path";
import { mkdirSync } from "node:fs";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";
import { env } from "../env";
import { lockKeys } from "./locks";

export type Schema = typeof schema;
/** A database or a transaction: every query takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type DbHandle = { db: Db; kind: "pg" | "pglite"; close: () => Promise<void> };

const MIGRATIONS = path.join(process.cwd(), "drizzle");
/** Connects to PostgreSQL at `url`, applies migrations once under an advisory lock. */
export async function connectPg(url: string, opts: { max?: number } = {}): Promise<DbHandle> {
  const { Pool } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const pool = new Pool({ connectionString: url, max: opts.max ?? 10, keepAlive: true });
  // PostgreSQL restarting ends every connection (57P01). Idle clients report it on the pool;
  // a client checked out between two queries (a transaction, a migration) reports it on itself,
  // and an 'error' event nobody listens to ends the process. Both are logged, once per client:
  // the query in progress fails on its own, and the pool drops the broken client on release.
  let lastLogged = 0;
  const lost = (err: Error) => {
    if (Date.now() - lastLogged < 1000) return;
    lastLogged = Date.now();
    console.error(`[db] connection lost: ${err.message}`);
  };
  pool.on("error", lost);
  pool.on("connect", (client) => client.on("error", lost));
  const lockClient = await pool.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [lockKeys.migrations]);
    await migrate(drizzle(lockClient, { schema }), { migrationsFolder: MIGRATIONS });
  } finally {
    await lockClient.query("select pg_advisory_unlock($1)", [lockKeys.migrations]).catch(() => {});
    lockClient.release();
  }
  const db = drizzle(pool, { schema }) as unknown as Db;
  return { db, kind: "pg", close: () => pool.end() };
}

/** The embedded default: PGlite in DATA_DIR, one instance per process. */
export async function connectPglite(dir: string): Promise<DbHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return { db: db as unknown as Db, kind: "pglite", close: () => client.close() };
}

// Next.js may load route code and the embedded worker in separate module graphs: keep the
// one connection on globalThis so both share it (PGlite allows a single owner per directory).
const store = globalThis as unknown as { __portalDb?: Promise<DbHandle> };

export function getDbHandle(): Promise<DbHandle> {
  if (!store.__portalDb) {
    store.__portalDb = env.DATABASE_URL
      ? connectPg(env.DATABASE_URL)
      : connectPglite(path.join(env.DATA_DIR, "pg"));
    store.__portalDb.catch(() => {
      store.__portalDb = undefined;
    });
  }
  return store.__portalDb;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

export async function closeDb(): Promise<void> {
  const handle = store.__portalDb;
  store.__portalDb = undefined;
  if (handle) await (await handle).close();
}

export { schema };
