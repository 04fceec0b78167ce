import { apiRoute, json } from "@/lib/api/handler";
import { setUserQuota, userQuota } from "@/lib/policy/groups";
import { quotaLimits, quotaLimitsPatch } from "@/lib/policy/input";

export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json({ userId: params.id, limits: await userQuota(db, params.id) }));

/** Sets every limit of the user's own quota, counted over all their orders in every group: each field is required, null means no limit. */
export const PUT = apiRoute({ body: quotaLimits, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await setUserQuota(db, actor, params.id, body)),
);

/** Changes only the limits sent; the others keep their value. */
export const PATCH = apiRoute({ body: quotaLimitsPatch, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await setUserQuota(db, actor, params.id, { ...(await userQuota(db, params.id)), ...body })),
);
