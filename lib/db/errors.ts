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

/** True when `err` (or what it wraps: drizzle puts the driver's error in `cause`) is a lost or refused connection. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== "object") return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && unavailableCodes.has(code)) return true;
    // AggregateError (a connect to several addresses, all refused)
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some((x) => isDatabaseUnavailable(x))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && unavailableMessages.some((m) => m.test(message))) return true;
  }
  return false;
}
