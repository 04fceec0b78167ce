import { apiRoute, json } from "@/lib/api/handler";
import { getServiceIp, releaseServiceIp } from "@/lib/net/service-ips";

export const dynamic = "force-dynamic";

/** One service IP: where it points and its last changes (with the downtime of each move). */
export const GET = apiRoute({}, async ({ db, actor, params }) => json(await getServiceIp(db, actor, params.id)));

/** Releases the service IP (its address goes back to the network); 409 while it is attached or being changed. */
export const DELETE = apiRoute({}, async ({ db, actor, params }) => json(await releaseServiceIp(db, actor, params.id)));
