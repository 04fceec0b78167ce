import { apiRoute, json } from "@/lib/api/handler";
import { sharedDeliveryFigures } from "@/lib/delivery/queries";
import { deliveryQuery, deliveryRange } from "@/lib/delivery/input";

export const dynamic = "force-dynamic";

/**
 * The one-hour promise, measured (admins): `?range=24h|7d|30d|90d|365d` or `?from=&to=`.
 * Figures are shared for a few seconds between requests for the same range (generatedAt says
 * when they were computed).
 */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, req }) => {
  const q = deliveryQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  const range = deliveryRange(q);
  return json(await sharedDeliveryFigures(db, range), 200, { "Cache-Control": "no-store" });
});
