import { apiRoute, json } from "@/lib/api/handler";
import { groupForAdmin, updateGroup } from "@/lib/policy/groups";
import { groupSettingsInput } from "@/lib/policy/input";

export const dynamic = "force-dynamic";

export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json(await groupForAdmin(db, params.id)));

/** Name, auto-approval, allowed images/flavors/networks and dedicated hosts/tags (empty list: all). */
export const PATCH = apiRoute({ body: groupSettingsInput, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await updateGroup(db, actor, params.id, body)),
);
