import { and, eq, inArray, isNotNull, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, hosts } from "../db/schema";

/**
 * The routing rule: work on a host that has an owning worker (a local QEMU host) runs only on
 * that worker, from its own queues (`provision@<id>`, `lifecycle@<id>`); everything else runs
 * on any worker from the shared queues. A run not yet placed has no host and starts anywhere;
 * once placed on an owned host it moves to the owner before the host's first step.
 */

/** Owning worker of each order's environment host (orders without one are left out). */
export async function ownersOfOrders(db: Db, orderIds: string[]): Promise<Map<string, string>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .select({ orderId: environments.orderId, owner: hosts.ownerWorker })
    .from(environments)
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .where(and(inArray(environments.orderId, orderIds), ne(environments.state, "deleted"), isNotNull(hosts.ownerWorker)));
  return new Map(rows.map((r) => [r.orderId, r.owner!]));
}

export async function ownerOfOrder(db: Db, orderId: string): Promise<string | null> {
  return (await ownersOfOrders(db, [orderId])).get(orderId) ?? null;
}
