import { createHash } from "node:crypto";
import { and, asc, eq, inArray, isNull, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { lockForTransaction } from "../db/locks";
import { environments, evacuationMoves, evacuations, hosts, orders, type Host, type HostKind } from "../db/schema";
import type { Actor } from "../auth/actor";
import { writeAudit } from "../audit/write";
import { conflict, forbidden } from "../errors";
import { LOCAL_HOST } from "../hosts/input";
import { driverFor } from "../pipeline/drivers";
import { CPU_OVERCOMMIT, inPool, usageOfHosts, type HostPool, type HostUsage } from "../policy/placement";
import { hostPoolOf } from "../policy/groups";
import { dispatchEvacuation } from "./evacuate";
import { announceEvacuation } from "./events";
import { howItMoves } from "./moves";
import { evacuationView, runningRebalanceOf, type EvacuationView } from "./queries";

/** Below this spread of memory use (highest minus lowest, in points of capacity) hosts count as even. */
export const EVEN_ENOUGH_POINTS = 10;
/** At most this many moves in one plan. */
export const MAX_PLANNED_MOVES = 20;

export type RebalanceHost = {
  id: string;
  name: string;
  memoryMbCapacity: number;
  before: { memoryMb: number; percent: number; environments: number };
  after: { memoryMb: number; percent: number; environments: number };
};
export type RebalanceMove = {
  environmentId: string;
  hostname: string;
  orderId: string;
  memoryMb: number;
  from: { id: string; name: string };
  to: { id: string; name: string };
  mode: "live" | "cold";
};
export type RebalancePlan = {
  kind: HostKind;
  /** Hash of the hosts and environments the plan was made from, and of its moves: running it needs this. */
  fingerprint: string;
  hosts: RebalanceHost[];
  moves: RebalanceMove[];
  /** Highest minus lowest memory use, in points of capacity, before and after the moves. */
  spread: { before: number; after: number };
  /** Why there are no moves, or what the plan leaves out. */
  notes: string[];
};

type Fleet = {
  hosts: Host[];
  envs: { id: string; hostId: string; hostname: string; orderId: string; state: string; vcpus: number; memoryMb: number; diskGb: number; movable: "live" | "cold" | null; pool: HostPool | null }[];
  used: Map<string, HostUsage>;
};

const percent = (used: number, capacity: number) => (capacity > 0 ? Math.round((1000 * used) / capacity) / 10 : 0);

/** The active hosts of `kind` that can take part, and the environments on them with how each could move. */
async function readFleet(db: Db, kind: HostKind, notes: string[]): Promise<Fleet> {
  const active = await db.select().from(hosts).where(and(eq(hosts.kind, kind), eq(hosts.state, "active"), isNull(hosts.removedAt))).orderBy(asc(hosts.name));
  const remote = kind === "qemu" ? active.filter((h) => h.address !== LOCAL_HOST) : [];
  if (remote.length) notes.push(`Left out (QEMU guests move only between hosts of the portal's own machine): ${remote.map((h) => h.name).join(", ")}`);
  const list = active.filter((h) => !remote.includes(h) && h.memoryMbCapacity > 0);
  const ids = list.map((h) => h.id);
  const rows = ids.length
    ? await db
        .select({
          id: environments.id, hostId: environments.hostId, hostname: environments.hostname, orderId: environments.orderId, state: environments.state,
          vcpus: environments.vcpus, memoryMb: environments.memoryMb, diskGb: environments.diskGb, orderStatus: orders.status, groupId: orders.groupId,
        })
        .from(environments)
        .innerJoin(orders, eq(orders.id, environments.orderId))
        .where(and(inArray(environments.hostId, ids), ne(environments.state, "deleted")))
        .orderBy(asc(environments.hostname), asc(environments.id))
    : [];
  const driver = driverFor(kind, db);
  // A group with a pool of its own keeps its environments on the pool's hosts.
  const pools = new Map<string, HostPool | null>();
  for (const groupId of new Set(rows.map((r) => r.groupId))) pools.set(groupId, await hostPoolOf(db, groupId));
  const envs = rows.map(({ groupId, ...r }) => {
    const how = r.orderStatus === "ready" ? howItMoves(driver, list.find((h) => h.id === r.hostId)!, r.state) : { refusal: "" };
    return { ...r, movable: "mode" in how ? how.mode : null, pool: pools.get(groupId) ?? null };
  });
  return { hosts: list, envs, used: await usageOfHosts(db, ids) };
}

/**
 * Moves that even out memory use across the active hosts of `kind`: repeatedly the one move of
 * a movable environment (to a host in its group's pool, if the group has one) (running: live, or cold where the kind has no live migration; stopped:
 * cold) that most lowers the spread of memory use (sum of squared distances from the mean, in
 * fractions of each host's capacity), as long as it lowers it, hosts differ by more than
 * EVEN_ENOUGH_POINTS and the target has room (memory, vCPUs with overcommit, disk). Each
 * environment moves at most once. Pure apart from reading the fleet; nothing changes.
 */
export async function planRebalance(db: Db, kind: HostKind): Promise<RebalancePlan> {
  const notes: string[] = [];
  const fleet = await readFleet(db, kind, notes);
  const used = new Map(fleet.hosts.map((h) => [h.id, { ...(fleet.used.get(h.id) ?? { environments: 0, vcpus: 0, memoryMb: 0, diskGb: 0 }) }]));
  const util = (h: Host) => used.get(h.id)!.memoryMb / h.memoryMbCapacity;
  const score = () => {
    const u = fleet.hosts.map(util);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    return u.reduce((a, b) => a + (b - mean) ** 2, 0);
  };
  const spread = () => {
    const u = fleet.hosts.map((h) => percent(used.get(h.id)!.memoryMb, h.memoryMbCapacity));
    return u.length ? Math.round(10 * (Math.max(...u) - Math.min(...u))) / 10 : 0;
  };
  const before = new Map([...used].map(([id, u]) => [id, { ...u }]));
  const spreadBefore = spread();
  const moves: RebalanceMove[] = [];
  if (fleet.hosts.length < 2) notes.push(`Rebalancing needs at least two active ${kind} hosts; there ${fleet.hosts.length === 1 ? "is one" : "are none"}`);
  else if (spreadBefore <= EVEN_ENOUGH_POINTS) notes.push(`Memory use differs by ${spreadBefore} points at most: even enough (the threshold is ${EVEN_ENOUGH_POINTS})`);
  const where = new Map(fleet.envs.map((e) => [e.id, e.hostId]));
  while (fleet.hosts.length >= 2 && moves.length < MAX_PLANNED_MOVES && spread() > EVEN_ENOUGH_POINTS) {
    const current = score();
    let best: { env: Fleet["envs"][number]; to: Host; score: number } | null = null;
    for (const env of fleet.envs) {
      if (!env.movable || moves.some((m) => m.environmentId === env.id)) continue;
      const from = fleet.hosts.find((h) => h.id === where.get(env.id))!;
      for (const to of fleet.hosts) {
        if (to.id === from.id || !inPool(env.pool, to)) continue;
        const u = used.get(to.id)!;
        const room = to.memoryMbCapacity - u.memoryMb >= env.memoryMb && to.cpuCapacity * CPU_OVERCOMMIT - u.vcpus >= env.vcpus && to.diskGbCapacity - u.diskGb >= env.diskGb;
        if (!room) continue;
        shift(used, env, from.id, to.id);
        const s = score();
        shift(used, env, to.id, from.id);
        // Lower wins; on a tie the smaller environment (less to copy), then by name: the same fleet gives the same plan.
        if (s < current - 1e-9 && (!best || s < best.score - 1e-9 || (Math.abs(s - best.score) <= 1e-9 && env.memoryMb < best.env.memoryMb))) best = { env, to, score: s };
      }
    }
    if (!best) break;
    const from = fleet.hosts.find((h) => h.id === where.get(best!.env.id))!;
    shift(used, best.env, from.id, best.to.id);
    where.set(best.env.id, best.to.id);
    moves.push({
      environmentId: best.env.id, hostname: best.env.hostname, orderId: best.env.orderId, memoryMb: best.env.memoryMb,
      from: { id: from.id, name: from.name }, to: { id: best.to.id, name: best.to.name }, mode: best.env.movable!,
    });
  }
  const unmovable = fleet.envs.filter((e) => !e.movable).length;
  if (unmovable) notes.push(`${unmovable} environment${unmovable === 1 ? "" : "s"} cannot move now (being built, moved or destroyed, in error, or its order not delivered) and stay${unmovable === 1 ? "s" : ""} where ${unmovable === 1 ? "it is" : "they are"}`);
  if (moves.some((m) => m.mode === "cold")) notes.push("Cold moves take their environment down while it moves; its owner is told first");
  const figures = (u: HostUsage | undefined, h: Host) => ({ memoryMb: u?.memoryMb ?? 0, percent: percent(u?.memoryMb ?? 0, h.memoryMbCapacity), environments: u?.environments ?? 0 });
  return {
    kind,
    fingerprint: fingerprintOf(kind, fleet, moves),
    hosts: fleet.hosts.map((h) => ({ id: h.id, name: h.name, memoryMbCapacity: h.memoryMbCapacity, before: figures(before.get(h.id), h), after: figures(used.get(h.id), h) })),
    moves,
    spread: { before: spreadBefore, after: spread() },
    notes,
  };
}

function shift(used: Map<string, HostUsage>, env: { vcpus: number; memoryMb: number; diskGb: number }, from: string, to: string) {
  const a = used.get(from)!;
  const b = used.get(to)!;
  a.memoryMb -= env.memoryMb; a.vcpus -= env.vcpus; a.diskGb -= env.diskGb; a.environments -= 1;
  b.memoryMb += env.memoryMb; b.vcpus += env.vcpus; b.diskGb += env.diskGb; b.environments += 1;
}

/** What the plan was made from (every host's capacity and use, every environment's place, size and state) and its moves. */
function fingerprintOf(kind: HostKind, fleet: Fleet, moves: RebalanceMove[]): string {
  const facts = {
    kind,
    hosts: fleet.hosts.map((h) => [h.id, h.state, h.cpuCapacity, h.memoryMbCapacity, h.diskGbCapacity]),
    envs: fleet.envs.map((e) => [e.id, e.hostId, e.state, e.vcpus, e.memoryMb, e.diskGb, e.movable]),
    moves: moves.map((m) => [m.environmentId, m.from.id, m.to.id, m.mode]),
  };
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex");
}

/**
 * Runs the plan the admin saw: the plan is made again and must have the same fingerprint (the
 * fleet did not change since; else 409 and the new plan is to be looked at), then its moves
 * become a batch run like an evacuation (./runner.ts), `parallel` at a time, each to its
 * planned host. One rebalance of a kind at a time. Audited as hosts.rebalance.
 */
export async function runRebalance(db: Db, actor: Actor, input: { kind: HostKind; fingerprint: string; parallel: number }): Promise<EvacuationView> {
  if (actor.role !== "admin") throw forbidden("Only an admin can rebalance hosts");
  const { id, plan } = await db.transaction(async (tx) => {
    await lockForTransaction(tx, "rebalance", input.kind);
    const running = await runningRebalanceOf(tx, input.kind);
    if (running) throw conflict(`A rebalance of the ${input.kind} hosts is already running (${running}); wait until it has finished`);
    const plan = await planRebalance(tx, input.kind);
    if (plan.fingerprint !== input.fingerprint) {
      throw conflict("The hosts or their environments changed since this plan was made; look at the new plan and run that one", "fingerprint");
    }
    if (plan.moves.length === 0) throw conflict(`Nothing to move: ${plan.notes[0] ?? "the hosts are even"}`);
    const [created] = await tx
      .insert(evacuations)
      .values({ kind: "rebalance", hostKind: input.kind, parallel: input.parallel, requestedBy: actor.id, fingerprint: plan.fingerprint })
      .returning({ id: evacuations.id });
    await tx.insert(evacuationMoves).values(
      plan.moves.map((m, i) => ({ evacuationId: created!.id, position: i + 1, environmentId: m.environmentId, fromHostId: m.from.id, targetHostId: m.to.id, mode: m.mode })),
    );
    return { id: created!.id, plan };
  });
  await writeAudit(db, {
    actorId: actor.id,
    action: "hosts.rebalance",
    targetType: "hosts",
    targetId: input.kind,
    data: {
      evacuation: id, fingerprint: plan.fingerprint, parallel: input.parallel, spread: plan.spread,
      moves: plan.moves.map((m) => ({ environment: m.hostname, from: m.from.name, to: m.to.name, mode: m.mode })),
    },
  });
  await dispatchEvacuation(id);
  await announceEvacuation(id);
  return evacuationView(db, id);
}
