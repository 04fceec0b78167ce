import { apiRoute, json } from "@/lib/api/handler";
import { extendLease } from "@/lib/leases/queries";
import { extendInput } from "@/lib/leases/input";
import { uuidParam } from "@/lib/validation/ids";

/** 200 when the extension is granted at once; 202 when it became a request for an approver. */
export const POST = apiRoute({ body: extendInput }, async ({ db, actor, params, body }) => {
  const result = await extendLease(db, actor, uuidParam(params.environmentId, "Environment"), body);
  return json(result, result.outcome === "extended" ? 200 : 202);
});
