import { apiRoute, json } from "@/lib/api/handler";
import { requestMigration } from "@/lib/lifecycle/migrate";
import { migrateInput } from "@/lib/validation/migrate";

/** Live-migrates a running environment to another host (admins); 202 with the queued action. */
export const POST = apiRoute({ body: migrateInput, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json(await requestMigration(db, actor, params.id, body.host), 202),
);
