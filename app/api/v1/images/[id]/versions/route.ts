import { apiRoute, json } from "@/lib/api/handler";
import { addImageVersion, listImageVersions } from "@/lib/catalog/versions";
import { imageVersionInput } from "@/lib/catalog/input";

export const dynamic = "force-dynamic";

/** The image's versions, newest first: number, build time, recipe hash, changelog, checksums, which is current. */
export const GET = apiRoute({}, async ({ db, params }) => json(await listImageVersions(db, params.id)));

/** Admins: a new version of an image not built here (current at once unless makeCurrent is false); 201. */
export const POST = apiRoute({ roles: ["admin"], body: imageVersionInput }, async ({ db, actor, params, body }) => json(await addImageVersion(db, actor, params.id, body), 201));
