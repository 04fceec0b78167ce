import { apiRoute, json } from "@/lib/api/handler";
import { requestMigration } from "@/lib/lifecycle/migrate";
import { migrateInput } from "@/lib/lifecycle/input";

/**
 * Moves an environment to another host (admins): live where the host kind migrates live, else
 * a cold move when the request accepts it (`cold: true`); 202 with the queued action.
 */
export const POST = apiRoute({ body: migrateInput, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await requestMigration(db, actor, params.id, body.host, { cold: body.cold }), 202),
);
