import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { LEASES_MAX_PER_PAGE, LEASES_PER_PAGE, listLeases } from "@/lib/leases/queries";
import { pageQuery } from "@/lib/validation/cursor";

export const dynamic = "force-dynamic";

const query = z.object({ scope: z.enum(["mine", "all"]).optional(), ...pageQuery(LEASES_PER_PAGE, LEASES_MAX_PER_PAGE) });

/**
 * Leases of my delivered environments; every lease for admins (or `?scope=mine`), soonest
 * end first, `limit` per page (default 50, at most 200); `nextCursor` asks for the next.
 */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const q = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  const scope = q.scope ?? (actor.role === "admin" ? "all" : "mine");
  return json(await listLeases(db, actor, scope, { limit: q.limit, cursor: q.cursor }));
});
