import { apiRoute, json } from "@/lib/api/handler";
import { updateImage } from "@/lib/catalog/queries";
import { imageUpdateInput } from "@/lib/catalog/input";

export const dynamic = "force-dynamic";

/**
 * Admins: change an image's name, description, version, hypervisors, purpose, size or licence,
 * or hide it from the catalog (`active: false`) and list it again; 409 once it is retired.
 */
export const PATCH = apiRoute({ roles: ["admin"], body: imageUpdateInput }, async ({ db, actor, params, body }) =>
  json(await updateImage(db, actor, params.id, body)),
);
