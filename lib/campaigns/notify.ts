import { eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, images, orders } from "../db/schema";
import { notify } from "../notifications/queries";

/** "2026-12-06 11:59 UTC", as the pages print moments. */
export function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

type Campaign = { id: string; name: string; imageId: string; windowStart: Date; windowEnd: Date; postponeMaxDays: number };

/**
 * Tells the owners of `environmentIds`, ahead of the window, that the campaign will reinstall
 * their environment (in the app, and by e-mail unless they turned that kind off). In the
 * caller's transaction; returns the e-mails' ids for dispatchMail after commit.
 */
export async function noticeOwners(db: Db, c: Campaign, version: number, environmentIds: string[]): Promise<string[]> {
  if (environmentIds.length === 0) return [];
  const [image] = await db.select({ name: images.name }).from(images).where(eq(images.id, c.imageId));
  const rows = await db
    .select({ orderId: orders.id, name: orders.name, owner: orders.userId, expiresAt: environments.expiresAt })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .where(inArray(environments.id, environmentIds));
  const postpone = c.postponeMaxDays > 0 ? ` You can postpone it once, by up to ${c.postponeMaxDays} day${c.postponeMaxDays === 1 ? "" : "s"} (never past its lease), on the order's page.` : "";
  const mailed = new Map<string, string>();
  for (const r of rows) {
    const sent = await notify(
      db,
      {
        userId: r.owner,
        kind: "campaign.scheduled",
        title: `${r.name} will be updated to ${image?.name ?? "its image"} version ${version}`,
        body:
          `Patch campaign "${c.name}" updates ${r.name} to version ${version} of its image (a reinstall) between ${utc(c.windowStart)} and ${utc(c.windowEnd)}. ` +
          `It is backed up first and restarted; its name, addresses, MAC addresses and the files under /data stay.${postpone}`,
        link: `/orders/${r.orderId}`,
      },
      { email: "campaign.scheduled" },
    );
    for (const id of sent.values()) mailed.set(`${r.orderId}`, id);
  }
  return [...mailed.values()];
}

/** Tells the owner how the campaign went for their environment (updated, failed, rolled back). In the caller's transaction. */
export async function noticeResult(db: Db, c: { id: string; name: string }, orderId: string, text: { title: string; body: string }): Promise<string[]> {
  const [o] = await db.select({ owner: orders.userId }).from(orders).where(eq(orders.id, orderId));
  if (!o) return [];
  const sent = await notify(db, { userId: o.owner, kind: "campaign.result", title: text.title, body: text.body, link: `/orders/${orderId}` }, { email: "campaign.result" });
  return [...sent.values()];
}
