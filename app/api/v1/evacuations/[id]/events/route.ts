import { apiRoute } from "@/lib/api/handler";
import { snapshotStream } from "@/lib/api/snapshot-stream";
import { evacuationChannel } from "@/lib/fleet/events";
import { evacuationView } from "@/lib/fleet/queries";
import { onChannel } from "@/lib/pipeline/subscriptions";

export const dynamic = "force-dynamic";

/**
 * Server-sent events of an evacuation or rebalance run (admins): its snapshot at once, then a
 * new one whenever a move starts, progresses or ends; the same JSON as GET /api/v1/evacuations/:id.
 */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params, req }) => {
  await evacuationView(db, params.id);
  return snapshotStream(req, (onChange) => onChannel(evacuationChannel(params.id), () => onChange()), () => evacuationView(db, params.id), "could not read the evacuation");
});
