import { apiRoute, json } from "@/lib/api/handler";
import { groupForAdmin, setMember } from "@/lib/policy/groups";
import { memberInput } from "@/lib/policy/input";

export const dynamic = "force-dynamic";

export const GET = apiRoute({ roles: ["admin"] }, async ({ db, params }) => json({ members: (await groupForAdmin(db, params.id)).members }));

/** Adds a user (by e-mail) to the group as customer or approver, or changes their role in it. */
export const PUT = apiRoute({ body: memberInput, roles: ["admin"] }, async ({ db, actor, params, body }) =>
  json({ members: (await setMember(db, actor, params.id, body)).members }),
);
