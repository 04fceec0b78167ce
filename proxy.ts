import { NextResponse, type NextRequest } from "next/server";
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
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(securityHeaders(csp, deployment))) response.headers.set(name, value);
  return response;
}
