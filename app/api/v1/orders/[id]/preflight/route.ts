import { apiRoute, json } from "@/lib/api/handler";
import { orderForActor } from "@/lib/orders/queries";
import { isApproverFor } from "@/lib/policy/approvers";
import { preflight } from "@/lib/policy/preflight";
import { forbidden } from "@/lib/errors";

export const dynamic = "force-dynamic";

/** Would the order succeed if approved now? Computed at the moment of the request. */
export const GET = apiRoute({}, async ({ db, actor, params }) => {
  const order = await orderForActor(db, actor, params.id);
  if (!(await isApproverFor(db, actor, order.groupId))) throw forbidden("Only approvers of the order's group see its pre-flight");
  return json(await preflight(db, params.id));
});
