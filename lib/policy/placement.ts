import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { unionAll } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import { environmentActions, environments, hosts, orders, pipelineRuns, pipelineSteps, type HostKind } from "../db/schema";
import { StepError } from "../drivers/types";

/**
 * Environments that take room on their host (host usage everywhere: placement, moves, the
 * hosts page and API): every one not deleted, except one still "creating" for a failed order
 * that never began to build storage on the host (it failed at placement, image or address
 * allocation): it holds its place and addresses for a retry, but nothing of it exists there.
 */
export const occupiesHost = sql`(${environments.state} <> 'deleted' and not (
  ${environments.state} = 'creating'
  and exists (select 1 from ${orders} where ${orders.id} = ${environments.orderId} and ${orders.status} = 'failed')
  and not exists (
    select 1 from ${pipelineRuns} join ${pipelineSteps} on ${pipelineSteps.runId} = ${pipelineRuns.id}
    where ${pipelineRuns.orderId} = ${environments.orderId} and ${pipelineSteps.name} = 'storage' and ${pipelineSteps.attempt} > 0
  )
))`;

/** How many vCPUs a host may promise per physical CPU. */
export const CPU_OVERCOMMIT = 4;

export type Candidate = { id: string; name: string; freeMemoryMb: number; freeVcpus: number; freeDiskGb: number };

export type Placement = { hostId: string; reason: string };

/**
 * Picks the active host of a suitable kind with the most free memory that fits the flavor,
 * and says why. Call inside a transaction: host rows are locked so two placements cannot
 * both take the last slot.
 */
export async function placeEnvironment(
  db: Db,
  need: { kinds: HostKind[]; vcpus: number; memoryMb: number; diskGb: number },
  opts: { pool?: HostPool | null; lock?: boolean } = {},
): Promise<Placement> {
  return choose(await candidateHosts(db, need.kinds, opts), need);
}

/**
 * A group's own hosts (a multi-customer pool such as a batch cluster's): when set, its orders
 * go only to hosts listed by id or carrying one of its tags (set by an admin on the host).
 */
export type HostPool = { name: string; hostIds: string[]; hostTags: string[] };

export function inPool(pool: HostPool | null | undefined, host: { id: string; tags: string[] }): boolean {
  if (!pool || (pool.hostIds.length === 0 && pool.hostTags.length === 0)) return true;
  return pool.hostIds.includes(host.id) || host.tags.some((t) => pool.hostTags.includes(t));
}

/**
 * Active hosts of a suitable kind (in the group's pool, if it has one) with what is free on
 * each. With `lock` (the default) the host rows are locked for the transaction; pre-flight
 * only looks.
 */
export async function candidateHosts(db: Db, kinds: HostKind[], opts: { pool?: HostPool | null; lock?: boolean } = {}): Promise<Candidate[]> {
  if (kinds.length === 0) throw new StepError("The image cannot run on any host kind this portal drives");
  const query = db.select().from(hosts).where(and(eq(hosts.state, "active"), inArray(hosts.kind, kinds)));
  const all = opts.lock === false ? await query : await query.for("update");
  const rows = all.filter((h) => inPool(opts.pool, h));
  const used = rows.length ? await usageOfHosts(db, rows.map((r) => r.id)) : new Map<string, HostUsage>();
  return candidatesOf(all, used, kinds, opts.pool);
}

export type HostUsage = { environments: number; vcpus: number; memoryMb: number; diskGb: number };

/**
 * What the environments that occupy a host (occupiesHost) use on each of `hostIds` (every
 * host when null), in one statement. Written as branches: the environments past "creating"
 * count as they are, and only those still "creating" (few, found through their own index) are
 * checked for the failed-order exception. As one condition PostgreSQL costs that check for
 * every live environment, plans the statement as expensive and compiles it (JIT) on every
 * call, which takes far longer than the sum itself.
 *
 * A move under way (a queued or running `migrate` or `move`, alone or in an evacuation) also
 * counts on its target until the environment switches over: the target has promised that
 * room, so a placement or another move must not take it meanwhile. It adds to what is used
 * there, not to the number of environments (the environment still runs on its source).
 * Placement and move starts lock the host rows they choose from, so each sees the other's.
 */
export async function usageOfHosts(db: Db, hostIds: string[] | null): Promise<Map<string, HostUsage>> {
  if (hostIds !== null && hostIds.length === 0) return new Map();
  // Every host when null; else the column is one of them (one array parameter, whatever their number).
  const among = (column: SQL) => (hostIds === null ? sql`true` : sql`${column} = any(${`{${hostIds.join(",")}}`}::uuid[])`);
  const onHosts = among(sql`${environments.hostId}`);
  const sizes = { vcpus: environments.vcpus, memoryMb: environments.memoryMb, diskGb: environments.diskGb };
  const live = db
    .select({ hostId: environments.hostId, ...sizes, here: sql<number>`1`.as("here") })
    .from(environments)
    .where(and(onHosts, sql`${environments.state} not in ('deleted', 'creating')`));
  const creating = db
    .select({ hostId: environments.hostId, ...sizes, here: sql<number>`1`.as("here") })
    .from(environments)
    .where(and(onHosts, eq(environments.state, "creating"), occupiesHost));
  const incoming = db
    .select({ hostId: sql<string>`${environmentActions.targetHostId}`.as("host_id"), ...sizes, here: sql<number>`0`.as("here") })
    .from(environmentActions)
    .innerJoin(environments, eq(environments.id, environmentActions.environmentId))
    .where(
      and(
        inArray(environmentActions.status, ["queued", "running"]),
        inArray(environmentActions.action, ["migrate", "move"]),
        among(sql`${environmentActions.targetHostId}`),
        sql`${environments.hostId} is distinct from ${environmentActions.targetHostId}`,
        sql`${environments.state} <> 'deleted'`,
      ),
    );
  const occupying = unionAll(live, creating, incoming).as("occupying");
  const used = await db
    .select({
      hostId: occupying.hostId,
      environments: sql<number>`coalesce(sum(${occupying.here}), 0)::int`,
      vcpus: sql<number>`coalesce(sum(${occupying.vcpus}), 0)::int`,
      memoryMb: sql<number>`coalesce(sum(${occupying.memoryMb}), 0)::int`,
      diskGb: sql<number>`coalesce(sum(${occupying.diskGb}), 0)::int`,
    })
    .from(occupying)
    .groupBy(occupying.hostId);
  return new Map(used.map((u) => [u.hostId, u]));
}

/** What the environments that occupy `hostId` use (zero on an empty host). */
export async function usageOfHost(db: Db, hostId: string): Promise<HostUsage> {
  return (await usageOfHosts(db, [hostId])).get(hostId) ?? { environments: 0, vcpus: 0, memoryMb: 0, diskGb: 0 };
}

/**
 * The candidates among `active` hosts (already read, with their usage): those of a suitable
 * kind in the pool, with what is free on each; says why when there is none.
 */
export function candidatesOf(
  active: { id: string; name: string; kind: string; state: string; tags: string[]; cpuCapacity: number; memoryMbCapacity: number; diskGbCapacity: number }[],
  usedBy: Map<string, HostUsage>,
  kinds: HostKind[],
  pool?: HostPool | null,
): Candidate[] {
  if (kinds.length === 0) throw new StepError("The image cannot run on any host kind this portal drives");
  const all = active.filter((h) => h.state === "active" && (kinds as string[]).includes(h.kind));
  const rows = all.filter((h) => inPool(pool, h));
  if (rows.length === 0) {
    if (all.length > 0 && pool) {
      throw new StepError(`No active host of kind ${kinds.join(" or ")} in the hosts of ${pool.name}: ask an admin to add one to the group's pool`);
    }
    throw new StepError(`No active host of kind ${kinds.join(" or ")}: ask an admin to register or undrain one`);
  }
  return rows.map((h) => {
    const u = usedBy.get(h.id);
    return {
      id: h.id,
      name: h.name,
      freeMemoryMb: h.memoryMbCapacity - (u?.memoryMb ?? 0),
      freeVcpus: h.cpuCapacity * CPU_OVERCOMMIT - (u?.vcpus ?? 0),
      freeDiskGb: h.diskGbCapacity - (u?.diskGb ?? 0),
    };
  });
}

/** The decision itself, apart from the database. */
export function choose(candidates: Candidate[], need: { vcpus: number; memoryMb: number; diskGb: number }): Placement {
  const fitting = candidates
    .filter((c) => c.freeMemoryMb >= need.memoryMb && c.freeVcpus >= need.vcpus && c.freeDiskGb >= need.diskGb)
    .sort((a, b) => b.freeMemoryMb - a.freeMemoryMb || a.name.localeCompare(b.name));
  const best = fitting[0];
  if (!best) {
    const most = [...candidates].sort((a, b) => b.freeMemoryMb - a.freeMemoryMb)[0];
    throw new StepError(
      `No host has room for ${need.vcpus} vCPUs, ${need.memoryMb} MiB and ${need.diskGb} GiB` +
        (most ? ` (most free: ${most.name} with ${most.freeMemoryMb} MiB, ${most.freeVcpus} vCPUs, ${most.freeDiskGb} GiB)` : ""),
    );
  }
  return {
    hostId: best.id,
    reason: `${best.name}: most free memory (${best.freeMemoryMb} MiB free, ${best.freeVcpus} vCPUs, ${best.freeDiskGb} GiB) among ${fitting.length} of ${candidates.length} hosts that fit`,
  };
}
