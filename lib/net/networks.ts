import { asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { ipAllocations, networks } from "../db/schema";
import { conflict, notFound, UserError } from "../errors";
import { lockForTransaction } from "../db/locks";
import { markUnchanged, writeAudit } from "../audit/write";
import { parseCidr, parseIp } from "./ipv4";
import { DEFAULT_MAC_PREFIX, gatewayProblem, type NetworkInput, type NetworkUpdate } from "./input";
import { usableCount, usableRange } from "./ipam";
import type { Actor } from "../auth/actor";
import { decodeCursor, LIST_PER_PAGE, pageOf } from "../validation/cursor";
import { isUuid } from "../validation/ids";

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

/**
 * Changes a network (admins): its name, its block (to widen it when it runs full), its gateway
 * or bridge. Refused with 409, saying why, when an allocated address would no longer be usable
 * (outside the block, or its network, broadcast or gateway address), or when the block would
 * overlap another network or give its guests another network's MACs. Addresses and MACs already
 * handed out do not change; a new gateway or bridge applies to environments built from now on.
 */
export async function updateNetwork(db: Db, actor: Actor, networkId: string, input: NetworkUpdate) {
  return db.transaction(async (tx) => {
    // One change of blocks at a time (creations too), and no allocation on this network meanwhile.
    await lockForTransaction(tx, "networkCreate");
    const [net] = await tx.select().from(networks).where(eq(networks.id, networkId)).for("update");
    if (!net) throw notFound("Network");
    const cidr = input.cidr ?? net.cidr;
    const gateway = input.gateway ?? net.gateway;
    const bad = gatewayProblem(cidr, gateway);
    if (bad) throw new UserError(bad, 422, { gateway: [bad] });
    if (cidr !== net.cidr) {
      const others = (await tx.select().from(networks)).filter((n) => n.id !== net.id);
      const overlapping = others.find((n) => cidrsOverlap(n.cidr, cidr));
      if (overlapping) throw conflict(`${cidr} overlaps network ${overlapping.name} (${overlapping.slug}, ${overlapping.cidr})`, "cidr");
      const macClash = others.find((n) => n.macPrefix.toLowerCase() === net.macPrefix.toLowerCase() && macBlocksOverlap(n.cidr, cidr));
      if (macClash) {
        throw conflict(
          `Guests on ${cidr} would get the same MACs as on network ${macClash.name} (${macClash.cidr}): both use MAC prefix ${net.macPrefix} and the same low 24 address bits`,
          "cidr",
        );
      }
    }
    if (cidr !== net.cidr || gateway !== net.gateway) {
      const { first, last, gateway: gw } = usableRange(cidr, gateway);
      const taken = await tx.select({ ip: ipAllocations.ip }).from(ipAllocations).where(eq(ipAllocations.networkId, net.id));
      const stranded = taken.map((t) => t.ip).filter((ip) => {
        const n = parseIp(ip);
        return n < first || n > last || n === gw;
      });
      if (stranded.length) {
        const list = stranded.sort((a, b) => parseIp(a) - parseIp(b)).slice(0, 5).join(", ") + (stranded.length > 5 ? ", ..." : "");
        const what = cidr !== net.cidr ? `${cidr} with gateway ${gateway}` : `gateway ${gateway}`;
        throw conflict(
          `${net.name} cannot change to ${what}: ${stranded.length} allocated address${stranded.length === 1 ? "" : "es"} would no longer be usable (${list}); free them first or choose a block that keeps them`,
          cidr !== net.cidr ? "cidr" : "gateway",
        );
      }
    }
    const set = {
      ...(input.name !== undefined && input.name !== net.name ? { name: input.name } : {}),
      ...(cidr !== net.cidr ? { cidr } : {}),
      ...(gateway !== net.gateway ? { gateway } : {}),
      ...(input.bridge !== undefined && input.bridge !== net.bridge ? { bridge: input.bridge } : {}),
    };
    if (Object.keys(set).length === 0) {
      markUnchanged();
      return net;
    }
    const [row] = await tx.update(networks).set(set).where(eq(networks.id, net.id)).returning();
    const pick = (n: typeof net) => Object.fromEntries(Object.keys(set).map((k) => [k, n[k as keyof typeof set]]));
    await writeAudit(tx, { actorId: actor.id, action: "network.update", targetType: "network", targetId: net.id, data: { slug: net.slug }, before: pick(net), after: pick(row) });
    return row;
  });
}

/**
 * Networks as any signed-in user may see them (addresses, not bridges or MAC prefixes), by
 * purpose and name: a page of `limit` after `cursor` (the previous page's nextCursor).
 */
export async function listNetworks(db: Db, opts: { limit?: number; cursor?: string } = {}) {
  const limit = opts.limit ?? LIST_PER_PAGE;
  const after = opts.cursor === undefined ? null : decodeCursor(opts.cursor, 3);
  if (opts.cursor !== undefined && (!after || !isUuid(after[2]))) {
    throw new UserError("Invalid input", 422, { cursor: ["Not a cursor from this list: start again without one"] });
  }
  const rows = await db
    .select({ id: networks.id, slug: networks.slug, name: networks.name, purpose: networks.purpose, cidr: networks.cidr, gateway: networks.gateway })
    .from(networks)
    .where(after ? sql`(${networks.purpose}, ${networks.name}, ${networks.id}) > (${after[0]}, ${after[1]}, ${after[2]}::uuid)` : undefined)
    .orderBy(asc(networks.purpose), asc(networks.name), asc(networks.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit, (n) => [n.purpose, n.name, n.id]);
  const ids = page.rows.map((n) => n.id);
  const used = ids.length
    ? await db
        .select({ networkId: ipAllocations.networkId, n: sql<number>`count(*)::int` })
        .from(ipAllocations)
        .where(inArray(ipAllocations.networkId, ids))
        .groupBy(ipAllocations.networkId)
    : [];
  const byNetwork = new Map(used.map((u) => [u.networkId, u.n]));
  return {
    networks: page.rows.map((n) => ({ ...n, free: usableCount(n.cidr, n.gateway) - (byNetwork.get(n.id) ?? 0) })),
    nextCursor: page.nextCursor,
  };
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
