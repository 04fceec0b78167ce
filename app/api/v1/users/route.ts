import { apiRoute, json } from "@/lib/api/handler";
import { createUser, listUsers, newUserInput } from "@/lib/users/queries";

export const dynamic = "force-dynamic";

export const GET = apiRoute({ roles: ["admin"] }, async ({ db }) => json({ users: await listUsers(db) }));

export const POST = apiRoute({ roles: ["admin"], body: newUserInput }, async ({ db, actor, body }) =>
  json(await createUser(db, actor, body), 201),
);
