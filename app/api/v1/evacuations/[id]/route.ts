import { apiRoute, json } from "@/lib/api/handler";
import { evacuationView } from "@/lib/fleet/queries";

export const dynamic = "force-dynamic";

/** A host evacuation or a rebalance run (admins): each move's state, reason, progress and downtime. */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json(await evacuationView(db, params.id)));
