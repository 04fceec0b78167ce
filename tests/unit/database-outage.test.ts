/**
 * Pages while PostgreSQL is unreachable: once a request saw the database refuse or lose its
 * connection, pages answer 503 with Retry-After (and retry by themselves) for a few seconds
 * instead of the generic error page; the API keeps answering from its own wrapper.
 */
import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "@/lib/db/client";
import { databaseRecentlyUnavailable, noteDatabaseOutage, OUTAGE_WINDOW_MS } from "@/lib/db/outage";
import { proxy } from "@/proxy";

const page = (path: string, method = "GET") => proxy(new NextRequest(`http://127.0.0.1:3000${path}`, { method }));

describe("pages while the database is unreachable", () => {
  afterEach(() => noteDatabaseOutage(Date.now() - 10 * OUTAGE_WINDOW_MS));

  it("a refused connection, even wrapped as drizzle wraps it, marks the outage; other errors do not", () => {
    noteDatabaseOutage(Date.now() - 10 * OUTAGE_WINDOW_MS);
    expect(isDatabaseUnavailable(new Error("duplicate key value violates unique constraint"))).toBe(false);
    expect(databaseRecentlyUnavailable()).toBe(false);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(isDatabaseUnavailable(new Error("Failed query: select 1", { cause: refused }))).toBe(true);
    expect(databaseRecentlyUnavailable()).toBe(true);
  });

  it("answers pages with 503, Retry-After and a page that says what is happening, with the security headers", async () => {
    noteDatabaseOutage();
    const res = page("/orders");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe(String(OUTAGE_WINDOW_MS / 1000));
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const body = await res.text();
    expect(body).toContain("database is unavailable right now");
    expect(body).toContain('http-equiv="refresh"');
  });

  it("leaves the API, posts and static files to their own handlers", () => {
    noteDatabaseOutage();
    expect(page("/api/v1/orders").status).not.toBe(503);
    expect(page("/orders/new", "POST").status).not.toBe(503);
    expect(page("/_next/static/chunks/app.js").status).not.toBe(503);
    expect(page("/icon.svg").status).not.toBe(503);
  });

  it("lets pages through again once the last sighting is older than the window", () => {
    noteDatabaseOutage(Date.now() - OUTAGE_WINDOW_MS - 1);
    expect(page("/orders").status).not.toBe(503);
  });
});
