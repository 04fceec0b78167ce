import { apiRoute, json } from "@/lib/api/handler";
import { renewInvitations } from "@/lib/courses/invitations";
import { renewInvitationsInput } from "@/lib/courses/input";

/**
 * New invitation links (teacher) for the named students, or all who have not set a password
 * yet: each replaces the student's earlier links, is e-mailed, and is returned once.
 */
export const POST = apiRoute({ body: renewInvitationsInput }, async ({ db, actor, params, body }) => json(await renewInvitations(db, actor, params.id, body)));
