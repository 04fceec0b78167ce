import { apiRoute, json } from "@/lib/api/handler";
import { backupWorkOf, listBackups, requestBackup } from "@/lib/backups/backups";

/** The environment's backups, newest first, and the backup, restore or verification in progress (owner or admin). */
export const GET = apiRoute({}, async ({ db, actor, params }) => {
  const items = await listBackups(db, actor, params.id);
  return json({ items, inProgress: await backupWorkOf(db, params.id) });
});

/** Backs the environment up now (owner or admin); 202 with the backup's id. 409 while another action runs. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestBackup(db, actor, params.id), 202));
