import { apiRoute, json } from "@/lib/api/handler";
import { environmentUsage, usageRangeInput } from "@/lib/usage/series";

export const dynamic = "force-dynamic";

/** The environment's CPU, memory, disk and network use over `range` (1h, 1d, 30d); owner or admin. */
export const GET = apiRoute({}, async ({ req, db, actor, params }) => {
  const { range } = usageRangeInput.parse(Object.fromEntries(new URL(req.url).searchParams));
  return json(await environmentUsage(db, actor, params.id, range));
});
