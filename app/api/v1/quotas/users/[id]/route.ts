import { apiRoute, json } from "@/lib/api/handler";
import { setUserQuota, userQuota } from "@/lib/policy/groups";
import { quotaLimits } from "@/lib/policy/input";

export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json({ userId: params.id, limits: await userQuota(db, params.id) }));

/** Sets the user's own limits, counted over all their orders in every group; null means no limit. */
export const PUT = apiRoute({ body: quotaLimits, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await setUserQuota(db, actor, params.id, body)),
);
