import { json, publicRoute } from "@/lib/api/handler";
import { acceptInvitation } from "@/lib/courses/invitations";
import { acceptInvitationInput } from "@/lib/courses/input";

/**
 * Sets the password of an invited student (no session: the one-time token is the proof).
 * The token is used up; a second use is refused.
 */
export const POST = publicRoute({ body: acceptInvitationInput }, async ({ db, body }) => json(await acceptInvitation(db, body.token, body.password)));
