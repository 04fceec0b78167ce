import { apiRoute, json } from "@/lib/api/handler";
import { listPageOf, nextPageLink } from "@/lib/api/paging";
import { createGroup, groupsOf, listGroupsForAdmin } from "@/lib/policy/groups";
import { groupInput } from "@/lib/policy/input";

export const dynamic = "force-dynamic";

/**
 * Admins: groups by name with members, settings and quota, `limit` a page (100 by default, 500
 * at most), `nextCursor` and the `Link` header's rel="next" for the next. Others: the groups
 * they belong to (one page: nextCursor null).
 */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const q = listPageOf(req);
  if (actor.role !== "admin") return json({ groups: await groupsOf(db, actor.id), nextCursor: null });
  const page = await listGroupsForAdmin(db, q);
  return json(page, 200, nextPageLink(req, page.nextCursor));
});

export const POST = apiRoute({ body: groupInput, roles: ["admin"] }, async ({ db, actor, body }) => {
  const group = await createGroup(db, actor, body);
  return json(group, 201, { Location: `/api/v1/groups/${group.id}` });
});
