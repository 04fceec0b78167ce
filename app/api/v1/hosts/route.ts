import { apiRoute, json } from "@/lib/api/handler";
import { listHostsWithUsage } from "@/lib/db/queries/hosts";

export const dynamic = "force-dynamic";

export const GET = apiRoute({ roles: ["admin", "approver"] }, async ({ db }) => json({ hosts: await listHostsWithUsage(db) }));
