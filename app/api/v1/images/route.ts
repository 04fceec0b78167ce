import { apiRoute, json } from "@/lib/api/handler";
import { createImage } from "@/lib/db/queries/admin";
import { imageInput } from "@/lib/validation/image";

export const dynamic = "force-dynamic";

/** Admins: add an image to the catalog; 409 when the slug is taken. */
export const POST = apiRoute({ roles: ["admin"], body: imageInput }, async ({ db, actor, body }) =>
  json(await createImage(db, actor, body), 201),
);
