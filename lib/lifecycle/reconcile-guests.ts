import { and, eq, inArray, isNull, notExists, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, environments, hosts, orders } from "../db/schema";
import { driverFor } from "../pipeline/drivers";
import { deploySpec, loadOrderContext } from "../pipeline/context";
import { announce } from "../pipeline/events";
import { workerId } from "../env";

export type GuestChange = { environmentId: string; hostname: string; from: string; to: string };

/**
 * The host is the truth about whether a delivered guest runs: after a worker restart, a host
 * reboot, or a guest that powered itself off, the environment's state is set to what its
 * host reports (running, stopped; a guest whose host has nothing of it is an error).
 * Environments with an action queued or running, or being built, moved or deleted, are left
 * to that work. Drivers without `status` (sim) are skipped. Only hosts this worker may serve
 * are asked: another worker's local host is on another machine.
 */
export async function reconcileGuests(db: Db): Promise<{ checked: number; changed: GuestChange[] }> {
  const rows = await db
    .select({ id: environments.id, orderId: environments.orderId, hostname: environments.hostname, state: environments.state, kind: hosts.kind })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .where(
      and(
        eq(orders.status, "ready"),
        or(isNull(hosts.ownerWorker), eq(hosts.ownerWorker, workerId)),
        inArray(environments.state, ["running", "stopped", "error"]),
        notExists(
          db
            .select({ id: environmentActions.id })
            .from(environmentActions)
            .where(and(eq(environmentActions.environmentId, environments.id), inArray(environmentActions.status, ["queued", "running"]))),
        ),
      ),
    );
  const changed: GuestChange[] = [];
  let checked = 0;
  for (const row of rows) {
    const driver = driverFor(row.kind, db);
    if (!driver.status) continue;
    checked++;
    let seen;
    try {
      seen = await driver.status(deploySpec(await loadOrderContext(db, row.orderId)));
    } catch (err) {
      console.error(`[reconciler] cannot read the state of ${row.hostname} from its host:`, (err as Error).message);
      continue;
    }
    const state = seen === "running" ? "running" : seen === "stopped" ? "stopped" : "error";
    if (state === row.state) continue;
    // Only if nothing else changed it meanwhile (an action requested since we read).
    const updated = await db
      .update(environments)
      .set({ state })
      .where(and(eq(environments.id, row.id), eq(environments.state, row.state)))
      .returning({ id: environments.id });
    if (updated.length === 0) continue;
    changed.push({ environmentId: row.id, hostname: row.hostname, from: row.state, to: state });
    console.log(`[reconciler] ${row.hostname}: the portal said ${row.state}, its host says ${seen}; now ${state}`);
    await announce(row.orderId, "environment");
  }
  return { checked, changed };
}
