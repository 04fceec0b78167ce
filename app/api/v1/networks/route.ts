import { apiRoute, json } from "@/lib/api/handler";
import { createNetwork, listNetworks } from "@/lib/net/networks";
import { networkInput } from "@/lib/net/input";

export const dynamic = "force-dynamic";

/** Any signed-in user: the networks with their free guest addresses. */
export const GET = apiRoute({}, async ({ db }) => json({ networks: await listNetworks(db) }));

/** Admins: add a network; 409 when the slug is taken or the block overlaps another network. */
export const POST = apiRoute({ roles: ["admin"], body: networkInput }, async ({ db, actor, body }) =>
  json(await createNetwork(db, actor, body), 201),
);
