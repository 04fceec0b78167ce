import { apiRoute, json } from "@/lib/api/handler";
import { listHostsWithUsage, registerHost } from "@/lib/hosts/queries";
import { hostRegistrationInput } from "@/lib/hosts/input";

export const dynamic = "force-dynamic";

/** Hosts with capacity and usage (admins, approvers). Never includes a private key. */
export const GET = apiRoute({ roles: ["admin", "approver"] }, async ({ db }) => json({ hosts: await listHostsWithUsage(db) }));

/** Admins register a host; it starts offline until Test connection pinned its key and found its capacity. */
export const POST = apiRoute({ roles: ["admin"], body: hostRegistrationInput }, async ({ db, actor, body }) => json(await registerHost(db, actor, body), 201));
