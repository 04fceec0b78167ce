import { NextResponse, type NextRequest } from "next/server";
import { databaseRecentlyUnavailable, OUTAGE_WINDOW_MS } from "@/lib/db/outage";
import { isDev, servedOverHttps } from "@/lib/env";
import { contentSecurityPolicy, newNonce, securityHeaders } from "@/lib/http/security-headers";

const deployment = { https: servedOverHttps, dev: isDev };

/**
 * Runs before every request (pages, API, /api/auth, static files, errors): security headers
 * on the response, and a fresh CSP nonce. The CSP is also set on the request, where Next.js
 * reads the nonce to put on the scripts it renders. No access checks here: every page and
 * route handler checks its caller itself.
 */
export function proxy(request: NextRequest) {
  const csp = contentSecurityPolicy(newNonce(), deployment);
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", csp);
  const response = isPage(request) && databaseRecentlyUnavailable() ? databaseUnavailablePage() : NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(securityHeaders(csp, deployment))) response.headers.set(name, value);
  return response;
}

/** A page a browser asked for (route handlers and Next.js's own files answer for themselves). */
function isPage(request: NextRequest): boolean {
  const path = request.nextUrl.pathname;
  return (request.method === "GET" || request.method === "HEAD") && !path.startsWith("/api/") && !path.startsWith("/_next/") && !/\.[a-z0-9]+$/i.test(path);
}

/**
 * While the database was seen unreachable in the last few seconds (restarting, failing over),
 * pages say so with 503 and Retry-After, and the browser tries again by itself, instead of the
 * generic error page. The API answers the same way from its route wrapper.
 */
function databaseUnavailablePage(): NextResponse {
  const seconds = Math.ceil(OUTAGE_WINDOW_MS / 1000);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="${seconds}"><title>Portal unavailable for a moment</title></head><body><main role="alert"><h1>The portal's database is unavailable right now</h1><p>It is restarting or unreachable. This page tries again in ${seconds} seconds; nothing you ordered is lost.</p></main></body></html>`;
  return new NextResponse(html, { status: 503, headers: { "content-type": "text/html; charset=utf-8", "retry-after": String(seconds), "cache-control": "no-store" } });
}
