import { Worker } from "bullmq";
import { getDb } from "@/lib/db/client";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { env } from "@/lib/env";
import { closeQueues, getQueue, queues } from "@/lib/jobs/queues";
import { createRedis, redisPrefix } from "@/lib/redis";
import { reconcileGuests } from "@/lib/lifecycle/reconcile-guests";
import { lifecycleProcessor } from "./processors/lifecycle";
import { maintenanceProcessor } from "./processors/maintenance";
import { provisionProcessor } from "./processors/provision";
import { reconcile, reconcileActions } from "./reconciler";

export type RunningWorkers = { stop: () => Promise<void> };

/** Wires queues to processors, schedules the reconciler and returns an ordered shutdown. */
export async function startWorkers(): Promise<RunningWorkers> {
  const db = await getDb();
  const shutdown = new AbortController();
  const common = {
    prefix: redisPrefix,
    lockDuration: env.JOB_LOCK_MS,
    stalledInterval: env.JOB_LOCK_MS,
    maxStalledCount: 5,
  };
  // Connections handed to BullMQ stay ours to close (a Worker closes only those it made).
  const connections = [createRedis(), createRedis(), createRedis()];
  const provision = new Worker(queues.provision.name, provisionProcessor(db, shutdown.signal), {
    ...common,
    connection: connections[0],
    concurrency: env.WORKER_CONCURRENCY,
  });
  const maintenance = new Worker(queues.maintenance.name, maintenanceProcessor(db), { ...common, connection: connections[1], concurrency: 1 });
  const lifecycle = new Worker(queues.lifecycle.name, lifecycleProcessor(db, shutdown.signal), {
    ...common,
    connection: connections[2],
    concurrency: env.WORKER_CONCURRENCY,
  });
  for (const w of [provision, maintenance, lifecycle]) {
    w.on("error", (err) => console.error(`[worker] ${w.name}:`, err.message));
  }
  await getQueue("maintenance").upsertJobScheduler(
    "reconcile",
    { every: env.RECONCILE_INTERVAL_MS },
    { name: "reconcile", data: { task: "reconcile" }, opts: queues.maintenance.defaults },
  );
  // Leases (warnings, stop at expiry, retire after grace) and courses (retire at their end).
  for (const task of ["leases", "courses"] as const) {
    await getQueue("maintenance").upsertJobScheduler(
      task,
      { every: env.LEASE_SWEEP_INTERVAL_MS },
      { name: task, data: { task }, opts: queues.maintenance.defaults },
    );
  }
  // Catch up at once on anything the database has in flight (e.g. after Redis lost it).
  await reconcile(db, getQueue("provision")).catch((err) => console.error("[reconciler]", err.message));
  await reconcileActions(db, getQueue("lifecycle")).catch((err) => console.error("[reconciler]", err.message));
  // Guests kept running while no worker was there: the portal finds them (or their absence) again.
  await reconcileGuests(db).catch((err) => console.error("[reconciler]", err.message));
  console.log(`[worker] processing ${queues.provision.name} (concurrency ${env.WORKER_CONCURRENCY}), ${queues.lifecycle.name} and ${queues.maintenance.name}`);

  let stopping: Promise<void> | null = null;
  return {
    stop() {
      // Order matters: stop taking jobs and let running ones finish, then queues, then connections.
      stopping ??= (async () => {
        await Promise.all([provision.close(), maintenance.close(), lifecycle.close()]);
        shutdown.abort();
        await closeSshConnections();
        await closeQueues();
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return stopping;
    },
  };
}
