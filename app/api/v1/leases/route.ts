import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { listLeases } from "@/lib/leases/queries";

export const dynamic = "force-dynamic";

const query = z.object({ scope: z.enum(["mine", "all"]).optional() });

/** Leases of my delivered environments; every lease for admins (or `?scope=mine`). */
export const GET = apiRoute({}, async ({ db, actor, req }) => {
  const q = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  const scope = q.scope ?? (actor.role === "admin" ? "all" : "mine");
  return json({ leases: await listLeases(db, actor, scope) });
});
