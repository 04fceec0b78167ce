import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { createApiToken, listApiTokens } from "@/lib/auth/tokens";
import { writeAudit } from "@/lib/audit/write";

export const dynamic = "force-dynamic";

const tokenInput = z.strictObject({ name: z.string().trim().min(1, "Give the token a name").max(100).default("API token") });

export const GET = apiRoute({}, async ({ db, actor }) => json({ tokens: await listApiTokens(db, actor.id) }));

/** The clear token is in this response only; the portal keeps its hash. */
export const POST = apiRoute({ body: tokenInput }, async ({ db, actor, body }) => {
  const created = await createApiToken(db, actor.id, body.name);
  await writeAudit(db, { actorId: actor.id, action: "token.create", targetType: "api_token", targetId: created.id, data: { name: created.name }, after: { name: created.name } });
  return json(created, 201, { "Cache-Control": "no-store" });
});
