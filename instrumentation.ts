export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before anything else: every request from now on carries the address it came from.
  const { recordPeerAddresses } = await import("./lib/http/peer-address");
  recordPeerAddresses();
  const { bootstrapOrExit } = await import("./lib/bootstrap");
  await bootstrapOrExit();
}

/**
 * A page or route that failed because PostgreSQL is unreachable marks the outage: for the
 * next few seconds proxy.ts answers pages with 503 and Retry-After instead of an error page.
 */
export async function onRequestError(err: unknown) {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { isDatabaseUnavailable } = await import("./lib/db/client");
  isDatabaseUnavailable(err);
}
