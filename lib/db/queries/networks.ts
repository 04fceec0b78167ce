import { asc, sql } from "drizzle-orm";
import type { Db } from "../client";
import { networks } from "../schema";
import { UserError } from "../../errors";
import { writeAudit } from "../../audit";
import { parseCidr } from "../../net/ipv4";
import type { NetworkInput } from "../../validation/network";
import { listNetworksWithFree } from "./admin";
import type { Actor } from "./orders";

/** Advisory lock key: network creations run one at a time, so two overlapping blocks never both pass. */
const NETWORK_CREATE_LOCK = 7320116;

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
    await tx.execute(sql`select pg_advisory_xact_lock(${NETWORK_CREATE_LOCK}, 0)`);
    const existing = await tx.select().from(networks).orderBy(asc(networks.createdAt));
    const sameSlug = existing.find((n) => n.slug === input.slug);
    if (sameSlug) throw conflictOn("slug", `A network with slug ${input.slug} already exists (${sameSlug.name})`);
    const overlapping = existing.find((n) => cidrsOverlap(n.cidr, input.cidr));
    if (overlapping) {
      throw conflictOn("cidr", `${input.cidr} overlaps network ${overlapping.name} (${overlapping.slug}, ${overlapping.cidr})`);
    }
    const prefix = (input.macPrefix ?? "02:00:00").toLowerCase();
    const macClash = existing.find((n) => n.macPrefix.toLowerCase() === prefix && macBlocksOverlap(n.cidr, input.cidr));
    if (macClash) {
      throw conflictOn(
        "macPrefix",
        `Guests on ${input.cidr} would get the same MACs as on network ${macClash.name} (${macClash.cidr}): both use MAC prefix ${prefix} and the same low 24 address bits. Choose another MAC prefix.`,
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

/** A 409 whose message also shows under the field it is about. */
function conflictOn(field: string, message: string) {
  return new UserError(message, 409, { [field]: [message] });
}

/** Networks as any signed-in user may see them: addresses, not bridges or MAC prefixes. */
export async function listNetworks(db: Db) {
  const rows = await listNetworksWithFree(db);
  return rows.map(({ id, slug, name, purpose, cidr, gateway, free }) => ({ id, slug, name, purpose, cidr, gateway, free }));
}
