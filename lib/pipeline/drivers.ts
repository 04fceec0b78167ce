import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts, simObjects, type HostKind } from "../db/schema";
import { driverFor as driverWith } from "../drivers";
import type { SimHostState } from "../drivers/sim/state";
import { transportFor, TransportError, type Transport } from "../drivers/transport";
import type { HostKind as DriverKind, HypervisorDriver } from "../drivers/types";

// The hosts table's kinds and the drivers' kinds are one list: a kind added to one only fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kindsAgree: Same<HostKind, DriverKind> = true;
void kindsAgree;

/**
 * The driver for a host kind, given what it needs from the portal's database: the transport
 * to a registered host, and the simulated hypervisor's state. Drivers never import lib/db.
 */
export function driverFor(kind: HostKind, db: Db): HypervisorDriver {
  return driverWith(kind, { connect: (hostId) => transportForHost(db, hostId), simState: simHostState(db) });
}

/** The transport for a registered host by id (drivers get the host from the DeploySpec). */
export async function transportForHost(db: Db, hostId: string): Promise<Transport> {
  const [host] = await db.select().from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt)));
  if (!host) throw new TransportError("connect", `host ${hostId} is not registered (any more)`);
  return transportFor(host);
}

/** The sim hypervisor's host-side objects in `sim_objects`, its injected failures in the host's config. */
export function simHostState(db: Db): SimHostState {
  return {
    async takeInjectedFailure(hostId, step) {
      const rows = await db
        .update(hosts)
        .set({
          config: sql`jsonb_set(${hosts.config}, ${`{failSteps,${step}}`}::text[], to_jsonb((${hosts.config}->'failSteps'->>${step})::int - 1))`,
        })
        .where(and(eq(hosts.id, hostId), sql`coalesce((${hosts.config}->'failSteps'->>${step})::int, 0) > 0`))
        .returning({ id: hosts.id });
      return rows.length > 0;
    },
    async get(hostId, kind, name, opts = {}) {
      const [row] = await db
        .select({ kind: simObjects.kind, name: simObjects.name, state: simObjects.state })
        .from(simObjects)
        .where(
          and(
            eq(simObjects.hostId, hostId),
            eq(simObjects.kind, kind),
            eq(simObjects.name, name),
            opts.live ? sql`${simObjects.state} <> 'deleted'` : undefined,
          ),
        );
      return row ?? null;
    },
    async put(hostId, kind, name, state) {
      await db
        .insert(simObjects)
        .values({ hostId, kind, name, state })
        .onConflictDoUpdate({
          target: [simObjects.hostId, simObjects.kind, simObjects.name],
          set: { state, updatedAt: new Date(), createdCount: sql`${simObjects.createdCount} + case when ${simObjects.state} = 'deleted' then 1 else 0 end` },
        });
    },
    async objectsOf(hostId, guest) {
      return db
        .select({ kind: simObjects.kind, name: simObjects.name, state: simObjects.state })
        .from(simObjects)
        .where(
          and(
            eq(simObjects.hostId, hostId),
            sql`${simObjects.state} <> 'deleted'`,
            sql`(${simObjects.name} = ${guest} or (${simObjects.kind} = 'image-pack' and ${simObjects.name} = ${`${guest}.tar`})
              or (${simObjects.kind} = 'snapshot' and starts_with(${simObjects.name}, ${`${guest}@`})))`,
          ),
        );
    },
    async remove(hostId, objects) {
      if (objects.length === 0) return [];
      const pairs = sql.join(objects.map((o) => sql`(${o.kind}, ${o.name})`), sql`, `);
      const removed = await db
        .update(simObjects)
        .set({ state: "deleted", updatedAt: new Date() })
        .where(and(eq(simObjects.hostId, hostId), sql`${simObjects.state} <> 'deleted'`, sql`(${simObjects.kind}, ${simObjects.name}) in (${pairs})`))
        .returning({ kind: simObjects.kind });
      return removed.map((r) => r.kind);
    },
  };
}
