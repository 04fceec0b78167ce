import { apiRoute, json } from "@/lib/api/handler";
import { listWorkers } from "@/lib/workers/registry";

export const dynamic = "force-dynamic";

/** Live workers, and offline ones that still own hosts, with their counts and last heartbeat (admins). */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db }) => json({ workers: await listWorkers(db) }));
