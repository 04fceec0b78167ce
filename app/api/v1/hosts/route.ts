import { apiRoute, json } from "@/lib/api/handler";
import { listPageOf, nextPageLink } from "@/lib/api/paging";
import { listHostsPage, registerHost } from "@/lib/hosts/queries";
import { hostRegistrationInput } from "@/lib/hosts/input";

export const dynamic = "force-dynamic";

/**
 * Hosts by name with capacity and usage (admins, approvers), `limit` a page (100 by default,
 * 500 at most); `nextCursor` and the `Link` header's rel="next" for the next. Never includes a
 * private key.
 */
export const GET = apiRoute({ roles: ["admin", "approver"] }, async ({ db, req }) => {
  const page = await listHostsPage(db, listPageOf(req));
  return json(page, 200, nextPageLink(req, page.nextCursor));
});

/** Admins register a host; it starts offline until Test connection pinned its key and found its capacity. */
export const POST = apiRoute({ roles: ["admin"], body: hostRegistrationInput }, async ({ db, actor, body }) => json(await registerHost(db, actor, body), 201));
