import { apiRoute, json } from "@/lib/api/handler";
import { listBackups, requestBackup } from "@/lib/backups/backups";

/** The environment's backups, newest first (owner or admin). */
export const GET = apiRoute({}, async ({ db, actor, params }) => json({ items: await listBackups(db, actor, params.id) }));

/** Backs the environment up now (owner or admin); 202 with the backup's id. 409 while another action runs. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestBackup(db, actor, params.id), 202));
