import { describe, expect, it } from "vitest";
import { NextRequest } from "next/server";
import { proxy } from "@/proxy";
import { contentSecurityPolicy, newNonce, securityHeaders } from "@/lib/http/security-headers";

const prod = { https: false, dev: false };

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => [d.split(" ")[0], d.slice(d.indexOf(" ") + 1)] as [string, string]));
}

describe("Content-Security-Policy", () => {
  it("allows scripts only from the portal and with this response's nonce; no eval outside development", () => {
    const csp = directives(contentSecurityPolicy("abc123==", prod));
    expect(csp.get("script-src")).toBe("'self' 'nonce-abc123==' 'strict-dynamic'");
    expect(csp.get("script-src")).not.toContain("unsafe");
    expect(csp.get("style-src")).toBe("'self' 'nonce-abc123=='");
    expect(csp.get("style-src-attr")).toBe("'unsafe-inline'");
    expect(csp.get("connect-src")).toBe("'self'");
    expect(csp.get("frame-ancestors")).toBe("'none'");
    expect(csp.get("object-src")).toBe("'none'");
    expect(csp.get("default-src")).toBe("'self'");
    expect(csp.has("upgrade-insecure-requests")).toBe(false);
  });

  it("adds eval (React's dev error stacks) and un-nonced styles in development only", () => {
    const csp = directives(contentSecurityPolicy("n0nce", { https: false, dev: true }));
    expect(csp.get("script-src")).toBe("'self' 'nonce-n0nce' 'strict-dynamic' 'unsafe-eval'");
    expect(csp.get("style-src")).toBe("'self' 'unsafe-inline'");
  });

  it("upgrades insecure requests when the portal is served over https", () => {
    expect(directives(contentSecurityPolicy("x", { https: true, dev: false })).has("upgrade-insecure-requests")).toBe(true);
  });

  it("gets a different, unguessable nonce for every response", () => {
    const nonces = new Set(Array.from({ length: 200 }, newNonce));
    expect(nonces.size).toBe(200);
    for (const n of nonces) expect(Buffer.from(n, "base64")).toHaveLength(16);
  });
});

describe("security headers", () => {
  it("forbid framing and sniffing, limit the referrer and switch off device features", () => {
    const h = securityHeaders("default-src 'self'", { https: false });
    expect(h).toMatchObject({
      "Content-Security-Policy": "default-src 'self'",
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "strict-origin-when-cross-origin",
    });
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) expect(h["Permissions-Policy"]).toContain(`${feature}=()`);
    expect(h).not.toHaveProperty("Strict-Transport-Security");
  });

  it("send HSTS only when the portal is served over https", () => {
    expect(securityHeaders("x", { https: true })["Strict-Transport-Security"]).toMatch(/^max-age=\d{7,}$/);
  });
});

describe("proxy.ts", () => {
  it("answers every request with the headers, and hands Next.js the same CSP to take the nonce from", () => {
    for (const url of ["http://portal.test/orders", "http://portal.test/api/v1/orders", "http://portal.test/api/auth/session"]) {
      const res = proxy(new NextRequest(url));
      const csp = res.headers.get("content-security-policy");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/]{22}==' 'strict-dynamic'/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      expect(res.headers.get("permissions-policy")).toContain("camera=()");
      // NextResponse.next({ request: { headers } }) passes request headers on like this.
      expect(res.headers.get("x-middleware-request-content-security-policy")).toBe(csp);
    }
    const a = proxy(new NextRequest("http://portal.test/")).headers.get("content-security-policy");
    const b = proxy(new NextRequest("http://portal.test/")).headers.get("content-security-policy");
    expect(a).not.toBe(b);
  });
});
