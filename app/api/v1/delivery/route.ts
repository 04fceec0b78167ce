import { apiRoute, json } from "@/lib/api/handler";
import { deliveryFigures } from "@/lib/delivery/queries";
import { deliveryQuery, deliveryRange } from "@/lib/delivery/input";

export const dynamic = "force-dynamic";

/** The one-hour promise, measured (admins): `?range=24h|7d|30d|90d|365d` or `?from=&to=`. */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, req }) => {
  const q = deliveryQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  const range = deliveryRange(q);
  return json(await deliveryFigures(db, range), 200, { "Cache-Control": "no-store" });
});
