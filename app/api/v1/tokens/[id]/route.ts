import { apiRoute } from "@/lib/api/handler";
import { revokeApiToken } from "@/lib/auth/tokens";
import { writeAudit } from "@/lib/audit/write";

export const DELETE = apiRoute({}, async ({ db, actor, params }) => {
  await revokeApiToken(db, actor.id, params.id);
  await writeAudit(db, { actorId: actor.id, action: "token.revoke", targetType: "api_token", targetId: params.id });
  return new Response(null, { status: 204 });
});
