import { apiRoute, json } from "@/lib/api/handler";
import { writeAudit } from "@/lib/audit/write";
import { mailConfigured } from "@/lib/mail/transport";
import { emailChoicesInput } from "@/lib/notifications/input";
import { emailChoices, setEmailChoices } from "@/lib/notifications/preferences";

export const dynamic = "force-dynamic";

/** Which kinds of event the caller gets by e-mail (in the app they always come), and whether the portal sends e-mail at all. */
export const GET = apiRoute({}, async ({ db, actor }) => json({ email: await emailChoices(db, actor.id), mailServer: mailConfigured() }));

/** Sets the kinds given; the others keep their setting. */
export const PATCH = apiRoute({ body: emailChoicesInput }, async ({ db, actor, body }) => {
  const before = await emailChoices(db, actor.id);
  const after = await setEmailChoices(db, actor.id, body.email);
  await writeAudit(db, { actorId: actor.id, action: "account.email_preferences", targetType: "user", targetId: actor.id, before, after });
  return json({ email: after, mailServer: mailConfigured() });
});
