import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import { environments, groups, groupSettings, ipAllocations, memberships, networks, serviceIpMoves, serviceIps } from "../db/schema";
import type { Actor } from "../auth/actor";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { afterTextKey, LIST_PER_PAGE, pageOf } from "../validation/cursor";
import { isUuid } from "../validation/ids";
import { pickServiceAddress } from "./ipam";
import { lockForTransaction } from "../db/locks";
import type { ServiceIpInput } from "./service-ip-input";

/**
 * Service IPs: addresses of a network that a group owns and points at one of its environments
 * on that network, or at none (DESIGN: "Service IPs are allocated apart from the guest's own
 * address and move with the environment"). Reserving, listing and releasing live here; where
 * one points (attach, detach, move) is a lifecycle action (lib/lifecycle/service-ips.ts).
 *
 * Who: admins, and the members of the owning group (customers and approvers change them;
 * students only see them). Anyone else gets 404, as if it did not exist.
 */

export type ServiceIpRow = typeof serviceIps.$inferSelect;
type Access = "manage" | "view" | null;

/** What `actor` may do with the service IPs of group `groupId`. */
export async function accessToGroup(db: Db, actor: Actor, groupId: string): Promise<Access> {
  if (actor.role === "admin") return "manage";
  const [member] = await db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.userId, actor.id), eq(memberships.groupId, groupId)));
  if (!member) return null;
  return actor.role === "student" ? "view" : "manage";
}

/** The service IP, if `actor` may see it (404 otherwise); with `manage`, 403 to members who may only look. */
export async function serviceIpFor(db: Db, actor: Actor, id: string, need: "view" | "manage"): Promise<ServiceIpRow> {
  if (!isUuid(id)) throw notFound("Service IP");
  const [row] = await db.select().from(serviceIps).where(eq(serviceIps.id, id));
  if (!row) throw notFound("Service IP");
  const access = await accessToGroup(db, actor, row.groupId);
  if (!access) throw notFound("Service IP");
  if (need === "manage" && access !== "manage") throw forbidden("Only customers and approvers of the owning group, or an admin, can change a service IP");
  return row;
}

async function findNetwork(db: Db, ref: string) {
  const [net] = await db.select().from(networks).where(isUuid(ref) ? eq(networks.id, ref) : eq(networks.slug, ref));
  return net ?? null;
}

/** The group a new service IP goes to: the one named (the caller must manage it), else the caller's first pool. */
async function groupForReservation(db: Db, actor: Actor, ref: string | undefined) {
  if (ref !== undefined) {
    const [g] = await db.select().from(groups).where(isUuid(ref) ? eq(groups.id, ref) : eq(groups.slug, ref));
    const access = g ? await accessToGroup(db, actor, g.id) : null;
    if (!g || !access) throw new UserError("The service IP has invalid fields", 422, { group: [`You are not a member of group "${ref}"`] });
    if (access !== "manage") throw forbidden(`Only customers and approvers of ${g.name}, or an admin, can reserve its service IPs`);
    return g;
  }
  if (actor.role === "student") throw forbidden("Students cannot reserve service IPs");
  const mine = await db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, kind: groups.kind })
    .from(memberships)
    .innerJoin(groups, eq(groups.id, memberships.groupId))
    .where(eq(memberships.userId, actor.id))
    .orderBy(asc(groups.name));
  const pool = mine.find((g) => g.kind !== "course") ?? mine[0];
  if (!pool) {
    throw new UserError(actor.role === "admin" ? "Name the group that owns the service IP" : "You are not in any group yet: ask an admin to add you to one", 422, {
      group: [actor.role === "admin" ? "Name the group that owns the service IP" : "You are not in any group"],
    });
  }
  return pool;
}

/**
 * Reserves the lowest free address of a network for a group (201): refused with 422 naming the
 * field (no such network, a network the group may not use, a group the caller is not in), 409
 * when the group already has a service IP of that name or the network is full. Audited.
 */
export async function reserveServiceIp(db: Db, actor: Actor, input: ServiceIpInput) {
  const group = await groupForReservation(db, actor, input.group);
  const net = await findNetwork(db, input.network);
  if (!net) throw new UserError("The service IP has invalid fields", 422, { network: [`No network "${input.network}"`] });
  const [settings] = await db.select({ networkIds: groupSettings.networkIds }).from(groupSettings).where(eq(groupSettings.groupId, group.id));
  if (settings?.networkIds.length && !settings.networkIds.includes(net.id)) {
    throw new UserError("The service IP has invalid fields", 422, { network: [`${net.name} is not one of group ${group.name}'s networks`] });
  }
  const id = randomUUID();
  const row = await db.transaction(async (tx) => {
    // One reservation of a name per group at a time (on any network), then the network's lock.
    await lockForTransaction(tx, "serviceIpName", `${group.id} ${input.name}`);
    const picked = await pickServiceAddress(tx, net.id);
    const [sameName] = await tx.select({ id: serviceIps.id }).from(serviceIps).where(and(eq(serviceIps.groupId, group.id), eq(serviceIps.name, input.name)));
    if (sameName) throw conflict(`Group ${group.name} already has a service IP named ${input.name}`, "name");
    const [created] = await tx
      .insert(serviceIps)
      .values({ id, groupId: group.id, networkId: net.id, name: input.name, ip: picked.ip, mac: picked.mac, createdBy: actor.id })
      .returning();
    await tx.insert(ipAllocations).values({ networkId: net.id, ip: picked.ip, mac: picked.mac, serviceIpId: id, kind: "service" });
    await writeAudit(tx, {
      actorId: actor.id, action: "service_ip.reserve", targetType: "service_ip", targetId: id,
      data: { name: input.name, ip: picked.ip, network: net.slug, group: group.slug },
    });
    return created;
  });
  return (await viewsOf(db, [row]))[0]!;
}

/**
 * Releases a service IP (its address goes back to the network). Refused with 409 while it
 * points at an environment (detach it first) or while a change of it is queued or running.
 */
export async function releaseServiceIp(db: Db, actor: Actor, id: string) {
  const found = await serviceIpFor(db, actor, id, "manage");
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(serviceIps).where(eq(serviceIps.id, id)).for("update");
    if (!row) throw notFound("Service IP");
    const [busy] = await tx.select({ kind: serviceIpMoves.kind }).from(serviceIpMoves).where(and(eq(serviceIpMoves.serviceIpId, id), inArray(serviceIpMoves.status, ["queued", "running"])));
    if (busy) throw conflict(`Service IP ${row.name} is being ${busy.kind === "detach" ? "detached" : "attached"} right now; release it when that is done`);
    if (row.environmentId) {
      const [env] = await tx.select({ hostname: environments.hostname }).from(environments).where(eq(environments.id, row.environmentId));
      throw conflict(`Service IP ${row.name} (${row.ip}) is attached to ${env?.hostname ?? "an environment"}; detach it first`);
    }
    await tx.delete(serviceIps).where(eq(serviceIps.id, id));
    await writeAudit(tx, { actorId: actor.id, action: "service_ip.release", targetType: "service_ip", targetId: id, data: { name: row.name, ip: row.ip, networkId: row.networkId, groupId: row.groupId } });
  });
  return { id: found.id, released: true as const };
}

const toEnv = alias(environments, "to_env");
const fromEnv = alias(environments, "from_env");

/** One change of where a service IP points, as the API and pages show it. */
export type ServiceIpMoveView = {
  id: string;
  kind: "attach" | "detach" | "move";
  status: "queued" | "running" | "succeeded" | "failed";
  from: { id: string; name: string } | null;
  to: { id: string; name: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  downtimeMs: number | null;
  totalMs: number | null;
  note: string | null;
  error: string | null;
};

/** Changes of the given service IPs, newest first (at most `perIp` each). */
export async function movesOf(db: Db, ids: string[], perIp = 1): Promise<Map<string, ServiceIpMoveView[]>> {
  const out = new Map<string, ServiceIpMoveView[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .select({ m: serviceIpMoves, fromName: fromEnv.hostname, toName: toEnv.hostname })
    .from(serviceIpMoves)
    .leftJoin(fromEnv, eq(fromEnv.id, serviceIpMoves.fromEnvironmentId))
    .leftJoin(toEnv, eq(toEnv.id, serviceIpMoves.toEnvironmentId))
    .where(inArray(serviceIpMoves.serviceIpId, ids))
    .orderBy(desc(serviceIpMoves.createdAt), desc(serviceIpMoves.id));
  for (const { m, fromName, toName } of rows) {
    const list = out.get(m.serviceIpId) ?? [];
    if (list.length >= perIp) continue;
    list.push({
      id: m.id, kind: m.kind, status: m.status,
      from: m.fromEnvironmentId ? { id: m.fromEnvironmentId, name: fromName ?? "" } : null,
      to: m.toEnvironmentId ? { id: m.toEnvironmentId, name: toName ?? "" } : null,
      createdAt: m.createdAt.toISOString(), startedAt: m.startedAt?.toISOString() ?? null, finishedAt: m.finishedAt?.toISOString() ?? null,
      downtimeMs: m.downtimeMs, totalMs: m.totalMs, note: m.note, error: m.error,
    });
    out.set(m.serviceIpId, list);
  }
  return out;
}

/** Service IPs as the API shows them: the network, the group, where each points and its latest change. */
export async function viewsOf(db: Db, rows: ServiceIpRow[], opts: { moves?: number } = {}) {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const envIds = [...new Set(rows.map((r) => r.environmentId).filter((e): e is string => e !== null))];
  const [nets, owners, envs, moves] = await Promise.all([
    db.select({ id: networks.id, slug: networks.slug, name: networks.name, cidr: networks.cidr }).from(networks).where(inArray(networks.id, [...new Set(rows.map((r) => r.networkId))])),
    db.select({ id: groups.id, slug: groups.slug, name: groups.name }).from(groups).where(inArray(groups.id, [...new Set(rows.map((r) => r.groupId))])),
    envIds.length
      ? db.select({ id: environments.id, name: environments.hostname, orderId: environments.orderId, state: environments.state }).from(environments).where(inArray(environments.id, envIds))
      : Promise.resolve([]),
    movesOf(db, ids, opts.moves ?? 1),
  ]);
  return rows.map((r) => {
    const history = moves.get(r.id) ?? [];
    const latest = history[0] ?? null;
    return {
      id: r.id,
      name: r.name,
      ip: r.ip,
      mac: r.mac,
      network: nets.find((n) => n.id === r.networkId)!,
      group: owners.find((g) => g.id === r.groupId)!,
      /** Where it answers now; null when it points nowhere. */
      environment: envs.find((e) => e.id === r.environmentId) ?? null,
      attachedAt: r.attachedAt?.toISOString() ?? null,
      /** A change that is queued or running. */
      pending: latest && (latest.status === "queued" || latest.status === "running") ? latest : null,
      lastMove: latest,
      ...(opts.moves ? { moves: history } : {}),
      createdAt: r.createdAt.toISOString(),
    };
  });
}

export type ServiceIpView = Awaited<ReturnType<typeof viewsOf>>[number];

/**
 * The service IPs `actor` may see (admins: all; others: their groups'), by name: a page of
 * `limit` after `cursor`; `network` narrows to one network (slug or id).
 */
export async function listServiceIps(db: Db, actor: Actor, opts: { limit?: number; cursor?: string; network?: string } = {}) {
  const limit = opts.limit ?? LIST_PER_PAGE;
  const after = afterTextKey(opts.cursor);
  const mine = actor.role === "admin" ? null : (await db.select({ id: memberships.groupId }).from(memberships).where(eq(memberships.userId, actor.id))).map((m) => m.id);
  if (mine && mine.length === 0) return { serviceIps: [], nextCursor: null };
  let networkId: string | null = null;
  if (opts.network !== undefined) {
    const net = await findNetwork(db, opts.network);
    if (!net) throw new UserError("Invalid input", 422, { network: [`No network "${opts.network}"`] });
    networkId = net.id;
  }
  const rows = await db
    .select()
    .from(serviceIps)
    .where(
      and(
        mine ? inArray(serviceIps.groupId, mine) : undefined,
        networkId ? eq(serviceIps.networkId, networkId) : undefined,
        after ? sql`(${serviceIps.name}, ${serviceIps.id}) > (${after[0]}, ${after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(serviceIps.name), asc(serviceIps.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit, (r) => [r.name, r.id]);
  return { serviceIps: await viewsOf(db, page.rows), nextCursor: page.nextCursor };
}

/** One service IP with its last changes (20), for whoever may see it. */
export async function getServiceIp(db: Db, actor: Actor, id: string) {
  const row = await serviceIpFor(db, actor, id, "view");
  return (await viewsOf(db, [row], { moves: 20 }))[0]!;
}

/** The service IPs pointing at an environment, or on their way to it (the order page). */
export async function serviceIpsOfEnvironment(db: Db, environmentId: string) {
  const incoming = db.select({ id: serviceIpMoves.serviceIpId }).from(serviceIpMoves).where(and(eq(serviceIpMoves.toEnvironmentId, environmentId), inArray(serviceIpMoves.status, ["queued", "running"])));
  const rows = await db
    .select()
    .from(serviceIps)
    .where(or(eq(serviceIps.environmentId, environmentId), inArray(serviceIps.id, incoming)))
    .orderBy(asc(serviceIps.name));
  return viewsOf(db, rows);
}

/** Every service IP by network, for the admins' networks page. */
export async function serviceIpsByNetwork(db: Db): Promise<Map<string, ServiceIpView[]>> {
  const rows = await db.select().from(serviceIps).orderBy(asc(serviceIps.name));
  const out = new Map<string, ServiceIpView[]>();
  for (const v of await viewsOf(db, rows)) out.set(v.network.id, [...(out.get(v.network.id) ?? []), v]);
  return out;
}

/** The group's service IPs on the given networks (what the order page offers to attach). */
export async function serviceIpsOfGroupOn(db: Db, groupId: string, networkIds: string[]) {
  if (networkIds.length === 0) return [];
  const rows = await db
    .select()
    .from(serviceIps)
    .where(and(eq(serviceIps.groupId, groupId), inArray(serviceIps.networkId, networkIds)))
    .orderBy(asc(serviceIps.name));
  return viewsOf(db, rows);
}
