import { asc } from "drizzle-orm";
import type { Db } from "../client";
import { networks } from "../schema";
import { conflict } from "../../errors";
import { lockForTransaction } from "../locks";
import { writeAudit } from "../../audit";
import { parseCidr } from "../../net/ipv4";
import { DEFAULT_MAC_PREFIX, type NetworkInput } from "../../validation/network";
import { listNetworksWithFree } from "./admin";
import type { Actor } from "./orders";

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
