import { apiRoute, json } from "@/lib/api/handler";
import { requestEvacuation } from "@/lib/fleet/evacuate";
import { evacuateInput } from "@/lib/fleet/input";

export const dynamic = "force-dynamic";

/**
 * Evacuates a host (admins): drains it and moves every environment off it, `parallel` at a
 * time (1..8, default 2); 202 with the evacuation, followed at GET /api/v1/evacuations/:id.
 */
export const POST = apiRoute({ roles: ["admin"], body: evacuateInput }, async ({ db, actor, params, body }) =>
  json(await requestEvacuation(db, actor, params.id, body), 202),
);
