import { apiRoute, json } from "@/lib/api/handler";
import { snapshotInput } from "@/lib/lifecycle/input";
import { listSnapshots, requestSnapshot } from "@/lib/lifecycle/snapshots";

/** The environment's snapshots (who may see the order); oldest first. */
export const GET = apiRoute({}, async ({ db, actor, params }) => json({ snapshots: await listSnapshots(db, actor, params.id) }));

/** Takes a snapshot (disk, and memory where the guest runs and the host kind can); owner or admin; 202. */
export const POST = apiRoute({ body: snapshotInput }, async ({ db, actor, params, body }) => json(await requestSnapshot(db, actor, params.id, body.name), 202));
