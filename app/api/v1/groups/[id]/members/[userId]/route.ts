import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { removeMember } from "@/lib/policy/groups";

export const DELETE = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => {
  const userId = z.string().uuid().safeParse(params.userId);
  if (!userId.success) return json({ error: "Not found" }, 404);
  await removeMember(db, actor, params.id, userId.data);
  return new Response(null, { status: 204 });
});
