/**
 * The security headers of every response, pages and API alike (proxy.ts sets them). Pure
 * functions of the request's nonce and two facts about the deployment, so they are tested
 * without a server.
 */

export type Deployment = { https: boolean; dev: boolean };

/** A fresh nonce for one response: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The Content-Security-Policy for a response whose inline scripts carry `nonce`. Next.js reads
 * the nonce back from this header (set on the request by proxy.ts) and puts it on its own
 * scripts and style tags when it renders; every page is rendered per request (the layout reads
 * the session), so every page gets it.
 */
export function contentSecurityPolicy(nonce: string, { https, dev }: Deployment): string {
  const directives = [
    "default-src 'self'",
    // 'strict-dynamic': scripts Next.js's nonced scripts load (route chunks) are trusted too.
    // React rebuilds server error stacks with eval in development only.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // <style> and <link> elements: our stylesheet (Tailwind, built to a file) and the tags
    // Next.js writes with the nonce. In development Next.js injects styles without one.
    dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    // style="" attributes: React renders style={{ width }} on progress bars as attributes in
    // the server HTML, which no nonce can cover. An attribute cannot run script; with
    // img-src/font-src/connect-src 'self' it cannot send anything elsewhere either.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // fetch and the order page's event stream (EventSource) go to the portal itself; in
    // development, 'self' also covers the dev server's websocket.
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ];
  return directives.join("; ");
}

/** Browser features the portal never uses, switched off for it and anything it could embed. */
const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "camera=()",
  "display-capture=()",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "serial=()",
  "usb=()",
].join(", ");

/** Every security header of a response, the CSP given. */
export function securityHeaders(csp: string, { https }: Pick<Deployment, "https">): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    // Older browsers ignore frame-ancestors; this says the same to them.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    // Only over https: sent over http it would be ignored, and a portal reached by plain http
    // on purpose (a lab network) must stay reachable. No includeSubDomains: the portal's
    // neighbours under the same domain are not ours to pin.
    ...(https ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
}
