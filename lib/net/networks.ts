import { asc, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { ipAllocations, networks } from "../db/schema";
import { conflict } from "../errors";
import { lockForTransaction } from "../db/locks";
import { writeAudit } from "../audit/write";
import { parseCidr } from "./ipv4";
import { DEFAULT_MAC_PREFIX, type NetworkInput } from "./input";
import { usableCount } from "./ipam";
import type { Actor } from "../auth/actor";

/** Whether two CIDR blocks share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.network < y.network + y.size && y.network < x.network + x.size;
}

/**
 * Whether two blocks give some guests the same MAC under one prefix: the MAC rule keeps only
 * the low 24 bits of the address (10.45.0.7 and 11.45.0.7 map alike).
 */
export function macBlocksOverlap(a: string, b: string): boolean {
  const low = (c: string) => {
    const { network, size } = parseCidr(c);
    const start = network & 0xffffff;
    return { start, end: start + size };
  };
  const x = low(a);
  const y = low(b);
  return x.start < y.end && y.start < x.end;
}

/**
 * Adds a network (admins). Refused with 409 when the slug is taken or the block overlaps an
 * existing network, naming that network; audited in the same transaction.
 */
export async function createNetwork(db: Db, actor: Actor, input: NetworkInput) {
  return db.transaction(async (tx) => {
    // Network creations run one at a time, so two overlapping blocks never both pass.
    await lockForTransaction(tx, "networkCreate");
    const existing = await tx.select().from(networks).orderBy(asc(networks.createdAt));
    const sameSlug = existing.find((n) => n.slug === input.slug);
    if (sameSlug) throw conflict(`A network with slug ${input.slug} already exists (${sameSlug.name})`, "slug");
    const overlapping = existing.find((n) => cidrsOverlap(n.cidr, input.cidr));
    if (overlapping) {
      throw conflict(`${input.cidr} overlaps network ${overlapping.name} (${overlapping.slug}, ${overlapping.cidr})`, "cidr");
    }
    const prefix = (input.macPrefix ?? DEFAULT_MAC_PREFIX).toLowerCase();
    const macClash = existing.find((n) => n.macPrefix.toLowerCase() === prefix && macBlocksOverlap(n.cidr, input.cidr));
    if (macClash) {
      throw conflict(
        `Guests on ${input.cidr} would get the same MACs as on network ${macClash.name} (${macClash.cidr}): both use MAC prefix ${prefix} and the same low 24 address bits. Choose another MAC prefix.`,
        "macPrefix",
      );
    }
    const [row] = await tx.insert(networks).values(input).returning();
    await writeAudit(tx, {
      actorId: actor.id,
      action: "network.create",
      targetType: "network",
      targetId: row.id,
      data: { slug: row.slug, purpose: row.purpose, cidr: row.cidr, gateway: row.gateway, bridge: row.bridge, macPrefix: row.macPrefix },
    });
    return row;
  });
}

/** Networks as any signed-in user may see them: addresses, not bridges or MAC prefixes. */
export async function listNetworks(db: Db) {
  const rows = await listNetworksWithFree(db);
  return rows.map(({ id, slug, name, purpose, cidr, gateway, free }) => ({ id, slug, name, purpose, cidr, gateway, free }));
}

/** Networks with how many guest addresses are used and still free. */
export async function listNetworksWithFree(db: Db) {
  const used = await db
    .select({ networkId: ipAllocations.networkId, n: sql<number>`count(*)::int` })
    .from(ipAllocations)
    .groupBy(ipAllocations.networkId);
  const byNetwork = new Map(used.map((u) => [u.networkId, u.n]));
  const rows = await db.select().from(networks).orderBy(asc(networks.purpose), asc(networks.name));
  return rows.map((n) => {
    const total = usableCount(n.cidr, n.gateway);
    const inUse = byNetwork.get(n.id) ?? 0;
    return {
      id: n.id, slug: n.slug, name: n.name, purpose: n.purpose, cidr: n.cidr, gateway: n.gateway, bridge: n.bridge,
      macPrefix: n.macPrefix, total, used: inUse, free: total - inUse,
    };
  });
}
