import { eq } from "drizzle-orm";
import { apiRoute, json } from "@/lib/api/handler";
import { networks } from "@/lib/db/schema";
import { notFound } from "@/lib/errors";
import { addRoute, listRoutes } from "@/lib/net/routes";
import { networkRouteInput } from "@/lib/net/service-ip-input";

export const dynamic = "force-dynamic";

/** Admins: the networks this one is routed with (every other pair is kept apart on the hosts). */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => {
  const [net] = await db.select({ id: networks.id }).from(networks).where(eq(networks.id, params.id));
  if (!net) throw notFound("Network");
  const routes = (await listRoutes(db)).filter((r) => r.networks.some((n) => n.id === params.id));
  return json({ routes });
});

/** Admins: marks this network and `network` as routed (201; 200 when they were already); applied to running hosts at once. */
export const POST = apiRoute({ roles: ["admin"], body: networkRouteInput }, async ({ db, actor, params, body }) => {
  const result = await addRoute(db, actor, params.id, body.network);
  return json(result, result.created ? 201 : 200);
});
