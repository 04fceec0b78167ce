import { AsyncLocalStorage } from "node:async_hooks";
import path from "node:path";
import { mkdirSync } from "node:fs";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";
import { env } from "../env";
import { lockKeys } from "./locks";
import { noteDatabaseOutage } from "./outage";

export type Schema = typeof schema;
/** A database or a transaction: every query takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** Rows of a raw query, from node-postgres or PGlite alike. */
export async function rowsOf<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export type DbHandle = { db: Db; kind: "pg" | "pglite"; close: () => Promise<void> };

const MIGRATIONS = path.join(process.cwd(), "drizzle");
/**
 * The signal of the request being answered: a statement it starts is cancelled on PostgreSQL
 * when the client goes away (see whileRequested).
 */
const requestSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `fn` for a request: statements it sends outside a transaction are cancelled when
 * `signal` aborts (the client closed the connection), so an abandoned request stops using
 * the database. Transactions are left to finish: they are short and hold locks.
 */
export function whileRequested<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return requestSignal.run(signal, fn);
}

/**
 * Runs `fn` outside any request: its statements are not cancelled when the request that
 * started it goes away (work whose result other requests share, see sharedDeliveryFigures).
 */
export function detachedFromRequest<T>(fn: () => Promise<T>): Promise<T> {
  return requestSignal.exit(fn);
}

/** What a statement of an abandoned request fails with. */
export class RequestAbandoned extends Error {
  constructor() {
    super("The client went away; the request was abandoned");
    this.name = "RequestAbandoned";
  }
}

/** Whether `err` (or what a query error wraps) says the request was abandoned. */
export function isAbandoned(err: unknown): boolean {
  return err instanceof RequestAbandoned || (err instanceof Error && err.cause instanceof RequestAbandoned);
}

/** Connects to PostgreSQL at `url`, applies migrations once under an advisory lock. */
export async function connectPg(url: string, opts: { max?: number; statementTimeoutMs?: number } = {}): Promise<DbHandle> {
  const { Client, Pool } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const statementTimeoutMs = opts.statementTimeoutMs ?? env.DB_STATEMENT_TIMEOUT_MS;
  const pool = new Pool({ connectionString: url, max: opts.max ?? 10, keepAlive: true, ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}) });
  // PostgreSQL restarting ends every connection (57P01). Idle clients report it on the pool;
  // a client checked out between two queries (a transaction, a migration) reports it on itself,
  // and an 'error' event nobody listens to ends the process. Both are logged, at most once a second:
  // the query in progress fails on its own, and the pool drops the broken client on release.
  let lastLogged = 0;
  const lost = (err: Error) => {
    if (Date.now() - lastLogged < 1000) return;
    lastLogged = Date.now();
    isDatabaseUnavailable(err);
    console.error(`[db] connection lost: ${err.message}`);
  };
  pool.on("error", lost);
  pool.on("connect", (client) => client.on("error", lost));
  const lockClient = await pool.connect();
  try {
    // Building an index on a large table may take longer than a request's statement.
    await lockClient.query("set statement_timeout = 0");
    await lockClient.query("select pg_advisory_lock($1)", [lockKeys.migrations]);
    await migrate(drizzle(lockClient, { schema }), { migrationsFolder: MIGRATIONS });
  } finally {
    await lockClient.query("select pg_advisory_unlock($1)", [lockKeys.migrations]).catch(() => {});
    await lockClient.query("reset statement_timeout").catch(() => {});
    lockClient.release();
  }
  // A statement of a request runs on a client of its own, so that the request's abort can
  // cancel exactly that backend (from a short-lived second connection: the pool may be full).
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  const cancelBackend = async (pid: number) => {
    const canceller = new Client({ connectionString: url });
    canceller.on("error", lost);
    try {
      await canceller.connect();
      await canceller.query("select pg_cancel_backend($1)", [pid]);
    } catch (err) {
      console.error("[db] could not cancel an abandoned statement:", (err as Error).message);
    } finally {
      await canceller.end().catch(() => {});
    }
  };
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    const signal = requestSignal.getStore();
    if (!signal) return poolQuery(...args);
    if (signal.aborted) throw new RequestAbandoned();
    const client = await pool.connect();
    const pid = (client as unknown as { processID: number }).processID;
    const onAbort = () => void cancelBackend(pid);
    try {
      if (signal.aborted) throw new RequestAbandoned();
      signal.addEventListener("abort", onAbort, { once: true });
      return await (client.query as (...a: unknown[]) => Promise<unknown>).apply(client, args);
    } catch (err) {
      throw signal.aborted ? new RequestAbandoned() : err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      client.release();
    }
  };
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

/**
 * Errors that mean "the database cannot be reached right now" (restarting, shutting down,
 * network gone), as opposed to a query's own failure: the web answers 503 with Retry-After,
 * the worker waits and retries the step instead of failing the order.
 */
const unavailableCodes = new Set([
  "57P01", // admin_shutdown: terminating connection due to administrator command
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: the database system is starting up / shutting down
  "53300", // too_many_connections
  "08000", "08001", "08003", "08004", "08006", // connection exceptions
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN",
]);

const unavailableMessages = [
  /Connection terminated/i,
  /connection (?:is )?(?:closed|ended)/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
  /the database system is (?:starting up|shutting down|in recovery mode)/i,
  /terminating connection/i,
];

/**
 * True when `err` (or what it wraps: drizzle puts the driver's error in `cause`) is a lost or
 * refused connection; the sighting is noted, so pages answer 503 for a few seconds (proxy.ts).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const unavailable = connectionLost(err);
  if (unavailable) noteDatabaseOutage();
  return unavailable;
}

function connectionLost(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== "object") return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && unavailableCodes.has(code)) return true;
    // AggregateError (a connect to several addresses, all refused)
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some((x) => connectionLost(x))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && unavailableMessages.some((m) => m.test(message))) return true;
  }
  return false;
}

export { schema };
