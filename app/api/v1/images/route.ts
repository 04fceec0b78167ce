import { apiRoute, json } from "@/lib/api/handler";
import { createImage } from "@/lib/catalog/queries";
import { imageInput } from "@/lib/catalog/input";

export const dynamic = "force-dynamic";

/** Admins: add an image to the catalog; 409 when the slug is taken. */
export const POST = apiRoute({ roles: ["admin"], body: imageInput }, async ({ db, actor, body }) =>
  json(await createImage(db, actor, body), 201),
);
