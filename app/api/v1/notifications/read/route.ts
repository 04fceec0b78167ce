import { apiRoute, json } from "@/lib/api/handler";
import { markRead, unreadCount } from "@/lib/notifications/queries";
import { markReadInput } from "@/lib/leases/input";

/** Marks the given notifications read, or all of mine when `ids` is left out. */
export const POST = apiRoute({ body: markReadInput }, async ({ db, actor, body }) => {
  const marked = await markRead(db, actor.id, body.ids);
  return json({ marked, unread: await unreadCount(db, actor.id) });
});
