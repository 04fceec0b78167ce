import { and, asc, eq, isNotNull } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import { hosts, networkRoutes, networks } from "../db/schema";
import type { Actor } from "../auth/actor";
import { forbidden, notFound, UserError } from "../errors";
import { markUnchanged, writeAudit } from "../audit/write";
import { enqueueNetworkPolicy, enqueueOrLeave } from "../jobs/queues";
import { isUuid } from "../validation/ids";

/**
 * Separated networks: on every host, a guest on one network cannot reach a guest on another
 * through the host, unless an admin marked the pair as routed (a network_routes row). A change
 * is applied to running hosts at once by a maintenance job per worker that owns hosts and one
 * for the rest (`network-policy`), without restarting guests; a host's network setup (a new
 * guest, a start, a migration) applies the rules of the moment too.
 */

/** What the drivers get (DeploySpec.networkPolicy): every network, and the routed pairs by slug. */
export async function networkPolicy(db: Db): Promise<{ networks: { slug: string; cidr: string; bridge: string }[]; routes: [string, string][] }> {
  const a = alias(networks, "net_a");
  const b = alias(networks, "net_b");
  const [all, pairs] = await Promise.all([
    db.select({ slug: networks.slug, cidr: networks.cidr, bridge: networks.bridge }).from(networks).orderBy(asc(networks.slug)),
    db.select({ a: a.slug, b: b.slug }).from(networkRoutes).innerJoin(a, eq(a.id, networkRoutes.networkA)).innerJoin(b, eq(b.id, networkRoutes.networkB)),
  ]);
  // Each pair by slug, smaller first, so that the hosts' rules read the same every time.
  const routes = pairs.map((p) => [p.a, p.b].sort() as [string, string]).sort((x, y) => x.join(" ").localeCompare(y.join(" ")));
  return { networks: all, routes };
}

/** The routed pairs with their networks' names, for the admins' page and GET. */
export async function listRoutes(db: Db) {
  const a = alias(networks, "net_a");
  const b = alias(networks, "net_b");
  const rows = await db
    .select({ id: networkRoutes.id, aId: a.id, aSlug: a.slug, aName: a.name, bId: b.id, bSlug: b.slug, bName: b.name, createdAt: networkRoutes.createdAt })
    .from(networkRoutes)
    .innerJoin(a, eq(a.id, networkRoutes.networkA))
    .innerJoin(b, eq(b.id, networkRoutes.networkB))
    .orderBy(asc(a.slug), asc(b.slug));
  return rows.map((r) => ({
    id: r.id,
    networks: [{ id: r.aId, slug: r.aSlug, name: r.aName }, { id: r.bId, slug: r.bSlug, name: r.bName }] as const,
    createdAt: r.createdAt.toISOString(),
  }));
}

async function pairOf(db: Db, networkId: string, otherRef: string) {
  const [net] = await db.select().from(networks).where(eq(networks.id, networkId));
  if (!net) throw notFound("Network");
  const [other] = await db.select().from(networks).where(isUuid(otherRef) ? eq(networks.id, otherRef) : eq(networks.slug, otherRef));
  if (!other) throw new UserError("Invalid input", 422, { network: [`No network "${otherRef}"`] });
  if (other.id === net.id) throw new UserError("Invalid input", 422, { network: ["A network reaches itself; name another network"] });
  const [first, second] = net.id < other.id ? [net, other] : [other, net];
  return { net, other, first, second };
}

/** Applies the current policy on every host: the shared maintenance queue, and each worker that owns hosts. */
async function applyEverywhere(db: Db) {
  const owners = await db.selectDistinct({ owner: hosts.ownerWorker }).from(hosts).where(isNotNull(hosts.ownerWorker));
  await enqueueOrLeave("network policy", () => enqueueNetworkPolicy(owners.map((o) => o.owner!)));
}

/** Marks two networks as routed (admins): 201 when new, 200 when they were already. Audited; applied to running hosts. */
export async function addRoute(db: Db, actor: Actor, networkId: string, otherRef: string) {
  if (actor.role !== "admin") throw forbidden("Only an admin can route networks");
  const { net, other, first, second } = await pairOf(db, networkId, otherRef);
  const [created] = await db.insert(networkRoutes).values({ networkA: first.id, networkB: second.id, createdBy: actor.id }).onConflictDoNothing().returning();
  if (!created) {
    markUnchanged();
    return { created: false, route: { networks: [net.slug, other.slug] } };
  }
  await writeAudit(db, { actorId: actor.id, action: "network.route", targetType: "network", targetId: net.id, data: { networks: [net.slug, other.slug] } });
  await applyEverywhere(db);
  return { created: true, route: { id: created.id, networks: [net.slug, other.slug] } };
}

/** Separates two routed networks again (admins); 404 when they were not routed. Audited; applied to running hosts. */
export async function removeRoute(db: Db, actor: Actor, networkId: string, otherRef: string) {
  if (actor.role !== "admin") throw forbidden("Only an admin can separate networks");
  const { net, other, first, second } = await pairOf(db, networkId, otherRef);
  const removed = await db
    .delete(networkRoutes)
    .where(and(eq(networkRoutes.networkA, first.id), eq(networkRoutes.networkB, second.id)))
    .returning({ id: networkRoutes.id });
  if (removed.length === 0) throw notFound(`A route between ${net.slug} and ${other.slug}`);
  await writeAudit(db, { actorId: actor.id, action: "network.unroute", targetType: "network", targetId: net.id, data: { networks: [net.slug, other.slug] } });
  await applyEverywhere(db);
  return { removed: true, networks: [net.slug, other.slug] };
}
