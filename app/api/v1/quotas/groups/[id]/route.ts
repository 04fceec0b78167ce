import { apiRoute, json } from "@/lib/api/handler";
import { limitsView, setGroupQuota } from "@/lib/policy/groups";
import { limitsOf } from "@/lib/policy/quota";
import { quotaLimits, quotaLimitsPatch } from "@/lib/policy/input";

/** Sets every limit of the group: each field is required, null means no limit. */
export const PUT = apiRoute({ body: quotaLimits, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await setGroupQuota(db, actor, params.id, body)),
);

/** Changes only the limits sent; the others keep their value. */
export const PATCH = apiRoute({ body: quotaLimitsPatch, roles: ["admin"] }, async ({ db, actor, params, body }) => {
  const current = limitsView(await limitsOf(db, { groupId: params.id }));
  return json(await setGroupQuota(db, actor, params.id, { ...current, ...body }));
});
