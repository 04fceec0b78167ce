import { Worker } from "bullmq";
import { getDb } from "@/lib/db/client";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { env, isEmbeddedWorker, workerId } from "@/lib/env";
import { closeQueues, getQueue, missingSchedulers, ownedQueueName, queues, upsertOwnedUsageScheduler, upsertSchedulers } from "@/lib/jobs/queues";
import { claimLocalHosts } from "@/lib/workers/registry";
import { startHeartbeat } from "./heartbeat";
import { createRedis, redisPrefix } from "@/lib/redis";
import { reconcileGuests } from "@/lib/lifecycle/reconcile-guests";
import { ConsoleBridges } from "@/lib/console/bridge";
import { restoreBackupSchedulers } from "@/lib/backups/policy";
import { lifecycleProcessor } from "./processors/lifecycle";
import { maintenanceProcessor } from "./processors/maintenance";
import { mailProcessor } from "./processors/mail";
import { closeMailer } from "@/lib/mail/transport";
import { provisionProcessor } from "./processors/provision";
import { fleetProcessor } from "./processors/fleet";
import { reconcile, reconcileActions, reconcileEvacuations, reconcileMail, takeOverExpiredRuns } from "./reconciler";

export type RunningWorkers = { stop: () => Promise<void> };

/** Wires queues to processors, schedules the reconciler and returns an ordered shutdown. */
export async function startWorkers(): Promise<RunningWorkers> {
  const db = await getDb();
  // drain: runs stop after their current step; shutdown: what still runs is aborted.
  const drain = new AbortController();
  const shutdown = new AbortController();
  const common = {
    prefix: redisPrefix,
    lockDuration: env.JOB_LOCK_MS,
    stalledInterval: env.JOB_LOCK_MS,
    maxStalledCount: 5,
  };
  const beats = startHeartbeat(db);
  // Connections handed to BullMQ stay ours to close (a Worker closes only those it made).
  const connections = [createRedis(), createRedis(), createRedis(), createRedis(), createRedis(), createRedis(), createRedis(), createRedis()];
  const runProcessor = beats.counted(provisionProcessor(db, shutdown.signal, drain.signal));
  const actionProcessor = beats.counted(lifecycleProcessor(db, shutdown.signal));
  const provision = new Worker(queues.provision.name, runProcessor, {
    ...common,
    connection: connections[0],
    concurrency: env.WORKER_CONCURRENCY,
  });
  const maintenance = new Worker(queues.maintenance.name, maintenanceProcessor(db), { ...common, connection: connections[1], concurrency: 1 });
  const lifecycle = new Worker(queues.lifecycle.name, actionProcessor, {
    ...common,
    connection: connections[2],
    concurrency: env.WORKER_CONCURRENCY,
  });
  // Work on hosts this worker owns (local QEMU hosts) comes through queues of its own.
  const ownedRuns = new Worker(ownedQueueName("provision", workerId), runProcessor, { ...common, connection: connections[4], concurrency: env.WORKER_CONCURRENCY });
  const ownedActions = new Worker(ownedQueueName("lifecycle", workerId), actionProcessor, { ...common, connection: connections[5], concurrency: env.WORKER_CONCURRENCY });
  // E-mail: as many at once as the mail transport keeps connections open.
  const mail = new Worker(queues.mail.name, mailProcessor(db), { ...common, connection: connections[3], concurrency: 3 });
  // Usage sampling of the hosts this worker owns (the shared maintenance queue samples the rest).
  const ownedMaintenance = new Worker(ownedQueueName("maintenance", workerId), maintenanceProcessor(db, workerId), { ...common, connection: connections[6], concurrency: 1 });
  // Host evacuations and rebalances: each job follows its batch's moves (the moves are lifecycle jobs).
  const fleet = new Worker(queues.fleet.name, fleetProcessor(db, drain.signal), { ...common, connection: connections[7], concurrency: 4 });
  const all = [provision, maintenance, lifecycle, mail, ownedRuns, ownedActions, ownedMaintenance, fleet];
  for (const w of all) {
    w.on("error", (err) => console.error(`[worker] ${w.name}:`, err.message));
  }
  await beats.beat();
  const claimed = await claimLocalHosts(db, { takeOver: isEmbeddedWorker });
  if (claimed.length) console.log(`[worker] ${workerId} owns the local host(s) ${claimed.join(", ")} from now on`);
  // The reconciler, the lease and the course sweeps (warnings, stop at expiry, retire).
  await upsertSchedulers();
  await upsertOwnedUsageScheduler(workerId);
  const catchUp = async () => {
    await reconcile(db, getQueue("provision")).catch((err) => console.error("[reconciler]", err.message));
    await reconcileActions(db, getQueue("lifecycle")).catch((err) => console.error("[reconciler]", err.message));
    await reconcileMail(db, getQueue("mail")).catch((err) => console.error("[reconciler]", err.message));
    await reconcileEvacuations(db, getQueue("fleet")).catch((err) => console.error("[reconciler]", err.message));
    // Backup schedules live in Redis only: the policies in the database bring lost ones back.
    await restoreBackupSchedulers(db).catch((err) => console.error("[reconciler]", err.message));
  };
  // Catch up at once on anything the database has in flight (e.g. after Redis lost it).
  await catchUp();
  // Guests kept running while no worker was there: the portal finds them (or their absence) again.
  await reconcileGuests(db).catch((err) => console.error("[reconciler]", err.message));

  // Besides the job schedulers (which live in Redis, and go if Redis loses its data), this
  // process keeps its own timers: every few seconds it takes over runs whose worker died and
  // re-creates missing schedulers (then catches up at once: Redis lost the queued jobs too);
  // every RECONCILE_INTERVAL_MS it reconciles whatever the scheduled job did.
  let ticking = false;
  const watch = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void (async () => {
      await takeOverExpiredRuns(db, getQueue("provision")).catch((err) => console.error("[worker] lease check:", err.message));
      const missing = await missingSchedulers().catch(() => []);
      if (missing.length) {
        console.log(`[worker] job schedulers missing from Redis (${missing.join(", ")}): re-creating them and catching up`);
        await upsertSchedulers(missing).catch((err) => console.error("[worker] re-creating schedulers:", err.message));
        await catchUp();
      }
      if (await upsertOwnedUsageScheduler(workerId, { onlyIfMissing: true }).catch(() => false)) console.log(`[worker] re-created the usage sampler of ${workerId}'s own hosts`);
    })().finally(() => (ticking = false));
  }, Math.min(env.RECONCILE_INTERVAL_MS, Math.max(500, Math.floor(env.RUN_LEASE_MS / 4))));
  const reconcileTimer = setInterval(() => void catchUp(), env.RECONCILE_INTERVAL_MS);
  console.log(
    `[worker] processing ${queues.provision.name} (concurrency ${env.WORKER_CONCURRENCY}), ${queues.lifecycle.name}, ${queues.mail.name}, ${queues.fleet.name} and ${queues.maintenance.name}, and as worker ${workerId} ${ownedRuns.name}, ${ownedActions.name} and ${ownedMaintenance.name}`,
  );

  // Guest consoles that viewers ask for (the Console tab), bridged to Redis.
  const consoles = new ConsoleBridges(db);

  let stopping: Promise<void> | null = null;
  return {
    stop() {
      // Order matters: runs stop after their current step (a step still running after the
      // grace period is aborted), the workers take no new jobs; then queues, then connections.
      stopping ??= (async () => {
        clearInterval(watch);
        clearInterval(reconcileTimer);
        beats.stop();
        drain.abort();
        const grace = setTimeout(() => {
          console.log(`[worker] steps still running after ${env.WORKER_GRACE_MS} ms: aborting them; the next worker does them again`);
          shutdown.abort();
        }, env.WORKER_GRACE_MS);
        await Promise.all(all.map((w) => w.close()));
        clearTimeout(grace);
        shutdown.abort();
        await consoles.stop();
        await closeSshConnections();
        closeMailer();
        await closeQueues();
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return stopping;
    },
  };
}
