import { apiRoute, json } from "@/lib/api/handler";
import { resizeDecisionInput } from "@/lib/lifecycle/input";
import { decideResize } from "@/lib/lifecycle/resize";

/** Approves (queues) or rejects a resize held for approval; approvers of the group, admins. */
export const POST = apiRoute({ body: resizeDecisionInput }, async ({ db, actor, params, body }) =>
  json(await decideResize(db, actor, params.id, params.aid, body.approve, body.reason), 200),
);
