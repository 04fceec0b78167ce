import { apiRoute, json } from "@/lib/api/handler";
import { listLeaseLimits, setLeaseLimit } from "@/lib/leases/queries";
import { leaseLimitInput } from "@/lib/leases/input";

export const dynamic = "force-dynamic";

/** The longest total lease granted without an approver: the portal's default and per group or image. */
export const GET = apiRoute({}, async ({ db }) => json(await listLeaseLimits(db)));

export const PUT = apiRoute({ roles: ["admin"], body: leaseLimitInput }, async ({ db, actor, body }) => json(await setLeaseLimit(db, actor, body)));
