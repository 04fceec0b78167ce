import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, flavors, groups, hosts, images, ipAllocations, networks, orders, users, type NotificationEvent } from "../db/schema";
import { approversOf } from "../policy/approvers";
import { notify } from "./queries";

/**
 * What happened to an order or its environment, as the one place that tells people about
 * it: the owner (and for a held order, whoever may decide) get an in-app notification and,
 * if they want that kind by e-mail, an e-mail. Called in the transaction of the change itself.
 */
export type OrderEvent = { orderId: string; actorId?: string | null } & (
  | { kind: "order.held" }
  | { kind: "order.approved"; note?: string }
  | { kind: "order.rejected"; reason: string }
  | { kind: "order.ready" }
  /** `step`: the failed step's label. */
  | { kind: "order.failed"; step: string | null; error: string }
  | { kind: "environment.stopped" }
  /** Told before a move that takes the environment down (a cold move of a running zone). */
  | { kind: "environment.moving"; from: string; to: string; detail: string }
  | { kind: "environment.moved"; from: string; to: string; detail: string }
  | { kind: "environment.retired"; why: string }
);

type Message = { userIds: string[]; kind: NotificationEvent; title: string; body: string };

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;

/**
 * Records the event's notifications (and e-mails, in the outbox) with `db`, the caller's
 * transaction; returns the e-mails' ids for `dispatchMail` after commit. Nobody is told
 * about what they did themselves (`actorId`).
 */
export async function recordOrderEvent(db: Db, event: OrderEvent): Promise<string[]> {
  const [o] = await db
    .select({
      id: orders.id, name: orders.name, ownerId: orders.userId, owner: users.email, groupId: orders.groupId, group: groups.name,
      reason: orders.reason, createdAt: orders.createdAt, image: images.name, flavor: flavors.name,
    })
    .from(orders)
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .where(eq(orders.id, event.orderId));
  if (!o) return [];
  const [actor] = event.actorId ? await db.select({ email: users.email }).from(users).where(eq(users.id, event.actorId)) : [];
  const by = actor?.email ?? "an admin";
  const owner = [o.ownerId];
  const messages: Message[] = [];
  switch (event.kind) {
    case "order.held": {
      const why = o.reason ?? "held for approval";
      messages.push({ userIds: owner, kind: "order.held", title: `${o.name} waits for approval`, body: `${sentence(why)} You are told when it is decided.` });
      const deciders = (await approversOf(db, o.groupId)).filter((id) => id !== o.ownerId);
      messages.push({
        userIds: deciders,
        kind: "order.awaiting_approval",
        title: `${o.name} waits for your approval`,
        body: `${o.owner} ordered ${o.image} (${o.flavor}) in ${o.group}: ${why}.`,
      });
      break;
    }
    case "order.approved":
      messages.push({
        userIds: owner, kind: event.kind, title: `${o.name} was approved`,
        body: `Approved by ${by}${event.note ? `: ${event.note}` : ""}. It is being built now; you are told when it is ready.`,
      });
      break;
    case "order.rejected":
      messages.push({ userIds: owner, kind: event.kind, title: `${o.name} was rejected`, body: `Rejected by ${by}: ${event.reason}` });
      break;
    case "order.ready":
      messages.push({ userIds: owner, kind: event.kind, title: `${o.name} is ready`, body: await deliveredAs(db, o.id, o.createdAt) });
      break;
    case "order.failed":
      messages.push({
        userIds: owner, kind: event.kind,
        title: event.step ? `${o.name} failed at step "${event.step}"` : `${o.name} failed`,
        body: `${event.step ? `Step "${event.step}" failed: ` : ""}${sentence(event.error)} Retry it from the order's page: it resumes at the failed step.`,
      });
      break;
    case "environment.stopped":
      messages.push({ userIds: owner, kind: event.kind, title: `${o.name} was stopped`, body: `Stopped by ${by}. Its disk and addresses are kept; start it again from the order's page.` });
      break;
    case "environment.moving":
      messages.push({
        userIds: owner, kind: event.kind, title: `${o.name} is being moved to ${event.to}`,
        body: `${by} is moving it from ${event.from} to ${event.to} now (${event.detail}). Its addresses and MAC addresses stay the same; you are told again when it runs there.`,
      });
      break;
    case "environment.moved":
      messages.push({
        userIds: owner, kind: event.kind, title: `${o.name} moved to ${event.to}`,
        body: `${by} moved it from ${event.from} to ${event.to} (${event.detail}). Its addresses and MAC addresses stay the same.`,
      });
      break;
    case "environment.retired":
      messages.push({ userIds: owner, kind: event.kind, title: `${o.name} is being destroyed`, body: `${sentence(event.why)} Its disk is removed and its addresses are freed.` });
      break;
  }
  const mailIds: string[] = [];
  for (const m of messages) {
    const to = m.userIds.filter((id) => id !== event.actorId);
    const mailed = await notify(db, to.map((userId) => ({ userId, kind: m.kind, title: m.title, body: m.body, link: `/orders/${o.id}` })), { email: m.kind });
    mailIds.push(...mailed.values());
  }
  return mailIds;
}

/** "db01 runs on sim-1; addresses 10.30.0.5 (Production), 10.20.0.5 (Service). Delivered 4.2 min after the order." */
async function deliveredAs(db: Db, orderId: string, orderedAt: Date): Promise<string> {
  const [placed] = await db
    .select({ hostname: environments.hostname, host: hosts.name })
    .from(environments)
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .where(eq(environments.orderId, orderId));
  const addresses = await db
    .select({ ip: ipAllocations.ip, network: networks.name })
    .from(ipAllocations)
    .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
    .where(eq(ipAllocations.orderId, orderId))
    .orderBy(asc(networks.purpose));
  const minutes = ((Date.now() - orderedAt.getTime()) / 60_000).toFixed(1);
  const where = placed ? `${placed.hostname} runs on ${placed.host}` : "It is delivered";
  const ips = addresses.length ? `; addresses ${addresses.map((a) => `${a.ip} (${a.network})`).join(", ")}` : "";
  return `${where}${ips}. Delivered ${minutes} min after the order.`;
}
