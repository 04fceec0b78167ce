import { apiRoute, json } from "@/lib/api/handler";
import { updateNetwork } from "@/lib/net/networks";
import { networkUpdateInput } from "@/lib/net/input";

export const dynamic = "force-dynamic";

/**
 * Admins: widen a network's block, change its gateway, bridge or name; 409 with the reason when
 * an allocated address would no longer be usable or the block overlaps another network.
 */
export const PATCH = apiRoute({ roles: ["admin"], body: networkUpdateInput }, async ({ db, actor, params, body }) =>
  json(await updateNetwork(db, actor, params.id, body)),
);
