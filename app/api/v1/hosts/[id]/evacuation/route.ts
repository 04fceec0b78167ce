import { apiRoute, json } from "@/lib/api/handler";
import { notFound } from "@/lib/errors";
import { latestEvacuationIdOf, evacuationView } from "@/lib/fleet/queries";
import { getHostView } from "@/lib/hosts/queries";

export const dynamic = "force-dynamic";

/** The host's latest evacuation with each environment's move (admins); 404 when it was never evacuated. */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => {
  const host = await getHostView(db, params.id);
  const id = await latestEvacuationIdOf(db, host.id);
  if (!id) throw notFound(`An evacuation of ${host.name}`);
  return json(await evacuationView(db, id));
});
