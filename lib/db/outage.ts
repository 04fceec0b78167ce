/**
 * When this process last saw the database unreachable (a refused or lost connection). Kept on
 * globalThis: proxy.ts, route handlers and pages may load this file in separate module graphs
 * of the one server process. No imports, so proxy.ts can read it without loading a driver.
 */
const seen = globalThis as unknown as { __portalDatabaseOutageAt?: number };

/** How long one sighting counts: pages answer 503 for this long, then try the database again. */
export const OUTAGE_WINDOW_MS = 5_000;

export function noteDatabaseOutage(now = Date.now()): void {
  seen.__portalDatabaseOutageAt = now;
}

/** True while the last sighting is younger than OUTAGE_WINDOW_MS. */
export function databaseRecentlyUnavailable(now = Date.now()): boolean {
  const at = seen.__portalDatabaseOutageAt;
  return at !== undefined && now - at < OUTAGE_WINDOW_MS;
}
