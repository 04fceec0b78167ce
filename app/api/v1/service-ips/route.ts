import { apiRoute, json } from "@/lib/api/handler";
import { listPageOf, nextPageLink } from "@/lib/api/paging";
import { listServiceIps, reserveServiceIp } from "@/lib/net/service-ips";
import { serviceIpInput } from "@/lib/net/service-ip-input";

export const dynamic = "force-dynamic";

/**
 * The service IPs the caller may see (admins: all; others: their groups'), by name, where each
 * points; `?network=` (slug or id) narrows to one network; paged like the other lists.
 */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const network = new URL(req.url).searchParams.get("network") ?? undefined;
  const page = await listServiceIps(db, actor, { ...listPageOf(req), network });
  return json(page, 200, nextPageLink(req, page.nextCursor));
});

/** Reserves the lowest free address of a network for the caller's group (or the group named); 201. */
export const POST = apiRoute({ body: serviceIpInput }, async ({ db, actor, body }) => json(await reserveServiceIp(db, actor, body), 201));
