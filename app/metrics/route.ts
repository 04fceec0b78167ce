import { createHash, timingSafeEqual } from "node:crypto";
import { errorResponse } from "@/lib/api/handler";
import { getDb } from "@/lib/db/client";
import { env } from "@/lib/env";
import { clientAddress, inAddressList } from "@/lib/http/client-address";
import { metricsText } from "@/lib/metrics/exposition";

export const dynamic = "force-dynamic";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Whether the request carries METRICS_TOKEN as its bearer token (compared in constant time). */
function hasToken(req: Request): boolean {
  if (!env.METRICS_TOKEN) return false;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
  return !!m && timingSafeEqual(digest(m[1]), digest(env.METRICS_TOKEN));
}

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers } });
}

/**
 * Prometheus text for a scraper with METRICS_TOKEN, or from an address in METRICS_ALLOW
 * (lib/metrics/exposition.ts says what is in it). Off (404) while neither is set.
 */
export async function GET(req: Request) {
  if (!env.METRICS_TOKEN && env.METRICS_ALLOW.length === 0) {
    return text("Metrics are off: set METRICS_TOKEN (a bearer token for the scraper) or METRICS_ALLOW (addresses allowed to scrape).", 404);
  }
  const address = clientAddress(req.headers);
  const allowed = hasToken(req) || (address !== null && inAddressList(address, env.METRICS_ALLOW));
  if (!allowed) {
    return env.METRICS_TOKEN
      ? text("Send the metrics token: Authorization: Bearer <METRICS_TOKEN>", 401, { "www-authenticate": 'Bearer realm="metrics"' })
      : text(`Metrics are served only to the addresses in METRICS_ALLOW; ${address ?? "this client"} is not one of them.`, 403);
  }
  try {
    const { text: body, contentType } = await metricsText(await getDb());
    return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
  } catch (err) {
    return errorResponse(err);
  }
}
