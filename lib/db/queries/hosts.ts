import { asc, ne, sql } from "drizzle-orm";
import type { Db } from "../client";
import { environments, hosts } from "../schema";

/** Hosts with capacity and what live environments use of it. */
export async function listHostsWithUsage(db: Db) {
  const used = await db
    .select({
      hostId: environments.hostId,
      environments: sql<number>`count(*)::int`,
      vcpus: sql<number>`sum(${environments.vcpus})::int`,
      memoryMb: sql<number>`sum(${environments.memoryMb})::int`,
      diskGb: sql<number>`sum(${environments.diskGb})::int`,
    })
    .from(environments)
    .where(ne(environments.state, "deleted"))
    .groupBy(environments.hostId);
  const byHost = new Map(used.map((u) => [u.hostId, u]));
  const rows = await db.select().from(hosts).orderBy(asc(hosts.name));
  return rows.map((h) => {
    const u = byHost.get(h.id);
    return {
      id: h.id, name: h.name, kind: h.kind, address: h.address, state: h.state, features: h.features,
      capacity: { vcpus: h.cpuCapacity, memoryMb: h.memoryMbCapacity, diskGb: h.diskGbCapacity },
      used: { environments: u?.environments ?? 0, vcpus: u?.vcpus ?? 0, memoryMb: u?.memoryMb ?? 0, diskGb: u?.diskGb ?? 0 },
    };
  });
}
