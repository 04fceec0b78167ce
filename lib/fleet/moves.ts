import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, evacuationMoves, hosts, type Host } from "../db/schema";
import type { HypervisorDriver } from "../drivers/types";
import { LOCAL_HOST } from "../hosts/input";
import { CPU_OVERCOMMIT, inPool, usageOfHosts, type HostPool } from "../policy/placement";

/** How an environment leaves its host: the lifecycle action that does it, and whether its owner is told first. */
export type MoveHow = { mode: "live" | "cold"; action: "migrate" | "move"; notifyOwner: boolean };

type EnvironmentState = (typeof environments.$inferSelect)["state"];

/**
 * How an environment in `state` on `host` can move, as its kind's driver moves guests: a
 * running guest live where the kind migrates live (QEMU, Xen, sim), else cold with its owner
 * told first (zones: halted, sent, booted on the target); a stopped guest cold, staying
 * stopped. Else why it cannot, in words for the host page.
 */
export function howItMoves(driver: HypervisorDriver, host: Pick<Host, "kind" | "name" | "address">, state: EnvironmentState): MoveHow | { refusal: string } {
  if (host.kind === "qemu" && host.address !== LOCAL_HOST) {
    return { refusal: `QEMU guests move only between hosts of the portal's own machine in this version; ${host.name} is reached over SSH` };
  }
  switch (state) {
    case "running":
      if (driver.capabilities.liveMigration && driver.migrate) return { mode: "live", action: "migrate", notifyOwner: false };
      if (driver.capabilities.coldMove && driver.migrate) return { mode: "cold", action: "move", notifyOwner: true };
      return { refusal: `environments on ${host.kind} hosts cannot be moved in this version` };
    case "stopped":
      if (driver.moveStopped) return { mode: "cold", action: "move", notifyOwner: false };
      return { refusal: `stopped environments on ${host.kind} hosts cannot be moved in this version; start it, then evacuate again` };
    case "error":
      return { refusal: "it is in error (its host could not say whether it runs); stop or start it, then evacuate again" };
    case "creating":
      return { refusal: "it is still being built; evacuate again once it is ready" };
    case "migrating":
      return { refusal: "another move of it is in progress" };
    case "deleting":
    case "deleted":
      return { refusal: "it is being destroyed" };
  }
}

export type Need = { vcpus: number; memoryMb: number; diskGb: number };
type Room = { host: Host; freeMemoryMb: number; freeVcpus: number; freeDiskGb: number };

const fits = (r: Room, need: Need) => r.freeMemoryMb >= need.memoryMb && r.freeVcpus >= need.vcpus && r.freeDiskGb >= need.diskGb;
const roomWords = (r: Room) => `${r.freeMemoryMb} MiB, ${r.freeVcpus} vCPUs, ${r.freeDiskGb} GiB free`;

/**
 * What is free on `candidates` for a move starting now: capacity less what their environments
 * use, moves already under way to them included (usageOfHosts; a move in flight still counts
 * on its source until it switches over). Call inside the transaction that holds the
 * candidates' rows locked, so two moves or a move and a placement do not both take the last
 * room.
 */
export async function roomOn(db: Db, candidates: Host[]): Promise<Room[]> {
  if (candidates.length === 0) return [];
  const used = await usageOfHosts(db, candidates.map((h) => h.id));
  return candidates.map((host) => {
    const u = used.get(host.id);
    return {
      host,
      freeMemoryMb: host.memoryMbCapacity - (u?.memoryMb ?? 0),
      freeVcpus: host.cpuCapacity * CPU_OVERCOMMIT - (u?.vcpus ?? 0),
      freeDiskGb: host.diskGbCapacity - (u?.diskGb ?? 0),
    };
  });
}

/**
 * Where an environment from `from` goes, as placement chooses a host for a new one: the active
 * host of the same kind (in its group's pool, if the group has one) with the most free memory
 * that fits it, counting moves already under way; a QEMU guest only to a host of this machine.
 * With `fixed` (a rebalance plan's target) that host, if it is still active and has room.
 * Locks the candidate hosts' rows: placements of new orders wait for the choice.
 */
export async function chooseTarget(
  tx: Db,
  from: Host,
  need: Need,
  opts: { pool: HostPool | null; fixed?: string | null },
): Promise<{ target: Host; reason: string } | { refusal: string }> {
  const rows = await tx
    .select()
    .from(hosts)
    .where(and(eq(hosts.kind, from.kind), ne(hosts.id, from.id), opts.fixed ? eq(hosts.id, opts.fixed) : eq(hosts.state, "active"), sql`${hosts.removedAt} is null`))
    .for("update");
  const size = `${need.vcpus} vCPUs, ${need.memoryMb} MiB and ${need.diskGb} GiB`;
  if (opts.fixed) {
    const [target] = rows;
    if (!target) return { refusal: "the planned target host is no longer registered" };
    if (target.state !== "active") return { refusal: `the planned target ${target.name} is ${target.state} now` };
    if (!inPool(opts.pool, target)) return { refusal: `the planned target ${target.name} is not among the hosts of ${opts.pool!.name} any more` };
    const [room] = await roomOn(tx, [target]);
    if (!fits(room!, need)) return { refusal: `the planned target ${target.name} has no room for ${size} any more (${roomWords(room!)})` };
    return { target, reason: `${target.name} as planned (${roomWords(room!)})` };
  }
  const sameMachine = rows.filter((h) => from.kind !== "qemu" || h.address === LOCAL_HOST);
  const inItsPool = sameMachine.filter((h) => inPool(opts.pool, h));
  if (inItsPool.length === 0) {
    const where = opts.pool && sameMachine.length > 0 ? ` in the hosts of ${opts.pool.name}` : from.kind === "qemu" && rows.length > 0 ? " on the portal's own machine" : "";
    return { refusal: `no other active ${from.kind} host${where} to move it to` };
  }
  const rooms = await roomOn(tx, inItsPool);
  const fitting = rooms.filter((r) => fits(r, need)).sort((a, b) => b.freeMemoryMb - a.freeMemoryMb || a.host.name.localeCompare(b.host.name));
  const best = fitting[0];
  if (!best) {
    const most = [...rooms].sort((a, b) => b.freeMemoryMb - a.freeMemoryMb)[0]!;
    return { refusal: `no other host has room for ${size} (most free: ${most.host.name} with ${roomWords(most)})` };
  }
  return { target: best.host, reason: `${best.host.name}: most free memory (${roomWords(best)}) among ${fitting.length} of ${rooms.length} hosts that fit` };
}
