import { apiRoute, json } from "@/lib/api/handler";
import { setGroupQuota } from "@/lib/policy/groups";
import { quotaLimits } from "@/lib/policy/input";

/** Sets the group's limits; null (or a left-out field) means no limit. */
export const PUT = apiRoute({ body: quotaLimits, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await setGroupQuota(db, actor, params.id, body)),
);
