import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { ipAllocations, networks } from "../db/schema";
import { UserError } from "../errors";
import { formatIp, parseCidr, parseIp } from "./ipv4";
import { macForIp } from "./mac";

/**
 * Addresses a network hands to guests: everything in the block except the network address,
 * the broadcast address and the gateway.
 */
export function usableRange(cidr: string, gateway: string): { first: number; last: number; gateway: number } {
  const c = parseCidr(cidr);
  return { first: c.network + 1, last: c.network + c.size - 2, gateway: parseIp(gateway) };
}

/** How many addresses a network can hand out. */
export function usableCount(cidr: string, gateway: string): number {
  const { first, last, gateway: gw } = usableRange(cidr, gateway);
  return last - first + 1 - (gw >= first && gw <= last ? 1 : 0);
}

/** Lowest usable address not in `taken`, or null when the network is exhausted. */
export function nextFreeAddress(cidr: string, gateway: string, taken: Iterable<string>): string | null {
  const { first, last, gateway: gw } = usableRange(cidr, gateway);
  const used = new Set<number>();
  for (const ip of taken) used.add(parseIp(ip));
  for (let n = first; n <= last; n++) {
    if (n !== gw && !used.has(n)) return formatIp(n);
  }
  return null;
}

export type Allocation = { networkId: string; ip: string; mac: string; kind: "guest" | "service" };

/**
 * Gives `orderId` an address on `networkId` (idempotent: an order that already has one keeps
 * it). The network row is locked for the transaction, so concurrent orders never get the same
 * address; the unique (network, ip) index is the second line of defence.
 */
export async function allocateAddress(
  db: Db,
  networkId: string,
  orderId: string,
  kind: "guest" | "service" = "guest",
): Promise<Allocation> {
  return db.transaction(async (tx) => {
    const [net] = await tx
      .select()
      .from(networks)
      .where(eq(networks.id, networkId))
      .for("update");
    if (!net) throw new UserError(`Network ${networkId} does not exist`, 404);
    const [existing] = await tx
      .select()
      .from(ipAllocations)
      .where(and(eq(ipAllocations.orderId, orderId), eq(ipAllocations.networkId, networkId), eq(ipAllocations.kind, kind)));
    if (existing) return { networkId, ip: existing.ip, mac: existing.mac, kind };
    const taken = await tx.select({ ip: ipAllocations.ip }).from(ipAllocations).where(eq(ipAllocations.networkId, networkId));
    const ip = nextFreeAddress(net.cidr, net.gateway, taken.map((t) => t.ip));
    if (!ip) throw new UserError(`Network ${net.name} (${net.cidr}) has no free address left`, 409);
    const mac = macForIp(ip, net.macPrefix);
    await tx.insert(ipAllocations).values({ networkId, ip, mac, orderId, kind });
    return { networkId, ip, mac, kind };
  });
}

/**
 * The lowest free address of a network and its MAC, for a service IP: locks the network row
 * for the caller's transaction (which then inserts the service IP and its allocation row), so
 * no order or other service IP gets the same address meanwhile.
 */
export async function pickServiceAddress(tx: Db, networkId: string): Promise<{ network: typeof networks.$inferSelect; ip: string; mac: string }> {
  const [net] = await tx.select().from(networks).where(eq(networks.id, networkId)).for("update");
  if (!net) throw new UserError(`Network ${networkId} does not exist`, 404);
  const taken = await tx.select({ ip: ipAllocations.ip }).from(ipAllocations).where(eq(ipAllocations.networkId, networkId));
  const ip = nextFreeAddress(net.cidr, net.gateway, taken.map((t) => t.ip));
  if (!ip) throw new UserError(`Network ${net.name} (${net.cidr}) has no free address left`, 409, { network: [`${net.name} has no free address left`] });
  return { network: net, ip, mac: macForIp(ip, net.macPrefix) };
}

/** Frees every address of an order; returns how many were freed. */
export async function releaseAddresses(db: Db, orderId: string): Promise<number> {
  const freed = await db.delete(ipAllocations).where(eq(ipAllocations.orderId, orderId)).returning({ id: ipAllocations.id });
  return freed.length;
}

export async function countFree(db: Db, networkId: string): Promise<number> {
  const [net] = await db.select().from(networks).where(eq(networks.id, networkId));
  if (!net) return 0;
  const total = usableCount(net.cidr, net.gateway);
  const [{ n }] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(ipAllocations)
    .where(eq(ipAllocations.networkId, networkId));
  return total - n;
}
