import { apiRoute, json } from "@/lib/api/handler";
import { listPageOf, nextPageLink } from "@/lib/api/paging";
import { createNetwork, listNetworks } from "@/lib/net/networks";
import { networkInput } from "@/lib/net/input";

export const dynamic = "force-dynamic";

/**
 * Any signed-in user: the networks with their free guest addresses, by purpose and name, `limit`
 * a page (100 by default, 500 at most); `nextCursor` and the `Link` header's rel="next" for the next.
 */
export const GET = apiRoute({}, async ({ db, req }) => {
  const page = await listNetworks(db, listPageOf(req));
  return json(page, 200, nextPageLink(req, page.nextCursor));
});

/** Admins: add a network; 409 when the slug is taken or the block overlaps another network. */
export const POST = apiRoute({ roles: ["admin"], body: networkInput }, async ({ db, actor, body }) =>
  json(await createNetwork(db, actor, body), 201),
);
