import { apiRoute, json } from "@/lib/api/handler";
import { pendingExtensionRequests } from "@/lib/leases/queries";

export const dynamic = "force-dynamic";

/** Extension requests waiting for me (approvers of the group, admins). */
export const GET = apiRoute({}, async ({ db, actor }) => json({ requests: await pendingExtensionRequests(db, actor) }));
