import { apiRoute, json } from "@/lib/api/handler";
import { listPageOf, nextPageLink } from "@/lib/api/paging";
import { createUser, listUsersPage, newUserInput } from "@/lib/users/queries";

export const dynamic = "force-dynamic";

/**
 * Users by e-mail, `limit` a page (100 by default, 500 at most); `nextCursor` (and the `Link`
 * header's rel="next") asks for the next page.
 */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, req }) => {
  const page = await listUsersPage(db, listPageOf(req));
  return json(page, 200, nextPageLink(req, page.nextCursor));
});

export const POST = apiRoute({ roles: ["admin"], body: newUserInput }, async ({ db, actor, body }) =>
  json(await createUser(db, actor, body), 201),
);
