import { apiRoute, json } from "@/lib/api/handler";
import { createGroup, groupsOf, listGroupsForAdmin } from "@/lib/policy/groups";
import { groupInput } from "@/lib/policy/input";

export const dynamic = "force-dynamic";

/** Admins: every group with members, settings and quota. Others: the groups they belong to. */
export const GET = apiRoute({}, async ({ db, actor }) =>
  json({ groups: actor.role === "admin" ? await listGroupsForAdmin(db) : await groupsOf(db, actor.id) }),
);

export const POST = apiRoute({ body: groupInput, roles: ["admin"] }, async ({ db, actor, body }) => {
  const group = await createGroup(db, actor, body);
  return json(group, 201, { Location: `/api/v1/groups/${group.id}` });
});
