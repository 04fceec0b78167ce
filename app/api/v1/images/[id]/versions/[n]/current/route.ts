import { apiRoute, json } from "@/lib/api/handler";
import { setCurrentVersion } from "@/lib/catalog/versions";
import { notFound } from "@/lib/errors";

/** Admins: version `n` becomes the image's current one (new environments and reinstalls use it). */
export const POST = apiRoute({ roles: ["admin"] }, async ({ db, actor, params }) => {
  if (!/^[1-9]\d{0,8}$/.test(params.n ?? "")) throw notFound("Version");
  return json(await setCurrentVersion(db, actor, params.id, Number(params.n)));
});
