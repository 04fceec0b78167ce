import { apiRoute, json } from "@/lib/api/handler";
import { groupBackupRulesInput } from "@/lib/backups/input";
import { setGroupBackupRules } from "@/lib/backups/quota";

/** Sets the group's backup quota (count, GB; null: no limit); answers with what its backups use now (admins). */
export const PUT = apiRoute({ body: groupBackupRulesInput, roles: ["admin"] }, async ({ db, actor, params, body }) => json(await setGroupBackupRules(db, actor, params.id, body)));
