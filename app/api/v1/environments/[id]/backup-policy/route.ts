import { apiRoute, json } from "@/lib/api/handler";
import { getBackupPolicy, setBackupPolicy } from "@/lib/backups/policy";
import { backupPolicyInput } from "@/lib/backups/input";

/** The environment's backup policy, or null (owner or admin). */
export const GET = apiRoute({}, async ({ db, actor, params }) => json({ policy: await getBackupPolicy(db, actor, params.id) }));

/** Sets when the environment is backed up and how many backups it keeps (owner or admin). */
export const PUT = apiRoute({ body: backupPolicyInput }, async ({ db, actor, params, body }) => json({ policy: await setBackupPolicy(db, actor, params.id, body) }));
