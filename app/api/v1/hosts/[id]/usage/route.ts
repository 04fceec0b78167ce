import { apiRoute, json } from "@/lib/api/handler";
import { hostUsage, usageRangeInput } from "@/lib/usage/series";

export const dynamic = "force-dynamic";

/** The host's CPU, memory, disk and network use over `range` (1h, 1d, 30d); admins. */
export const GET = apiRoute({ roles: ["admin"] }, async ({ req, db, params }) => {
  const { range } = usageRangeInput.parse(Object.fromEntries(new URL(req.url).searchParams));
  return json(await hostUsage(db, params.id, range));
});
