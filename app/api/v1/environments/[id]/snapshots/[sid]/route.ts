import { apiRoute, json } from "@/lib/api/handler";
import { requestSnapshotDeletion } from "@/lib/lifecycle/snapshots";

/** Deletes a snapshot on the host; owner or admin; 202 with the queued action. */
export const DELETE = apiRoute({}, async ({ db, actor, params }) => json(await requestSnapshotDeletion(db, actor, params.id, params.sid), 202));
