import { apiRoute, json } from "@/lib/api/handler";
import { getSshKey, setSshKey } from "@/lib/users/ssh-keys";
import { sshKeyInput } from "@/lib/validation/ssh-key";

export const dynamic = "force-dynamic";

/** The caller's SSH public key and its fingerprint (null when none is set). */
export const GET = apiRoute({}, async ({ db, actor }) => json(await getSshKey(db, actor.id)));

/** Sets the key that glue puts into the caller's future environments. */
export const PUT = apiRoute({ body: sshKeyInput }, async ({ db, actor, body }) => json(await setSshKey(db, actor.id, body.sshPublicKey)));

export const DELETE = apiRoute({}, async ({ db, actor }) => {
  await setSshKey(db, actor.id, null);
  return new Response(null, { status: 204 });
});
