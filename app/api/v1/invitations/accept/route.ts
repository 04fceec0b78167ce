import { errorResponse, json } from "@/lib/api/handler";
import { getDb } from "@/lib/db/client";
import { acceptInvitation } from "@/lib/db/queries/courses";
import { acceptInvitationInput } from "@/lib/validation/course";

/**
 * Sets the password of an invited student (no session: the one-time token is the proof).
 * The token is used up; a second use is refused.
 */
export async function POST(req: Request): Promise<Response> {
  try {
    const raw = await req.json().catch(() => ({}));
    const input = acceptInvitationInput.parse(raw);
    return json(await acceptInvitation(await getDb(), input.token, input.password));
  } catch (err) {
    return errorResponse(err);
  }
}
