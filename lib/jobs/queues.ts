import { Queue, type JobsOptions } from "bullmq";
import { z } from "zod";
import type { Redis } from "ioredis";
import { createRedis, redisPrefix } from "../redis";
import { env } from "../env";

/**
 * The one registry of queues: names, payloads and default options. Web and workers import
 * these; nobody enqueues a string literal.
 */
/** Work a customer waits for: retried with backoff, kept long enough to investigate. */
const durableJob = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
} satisfies JobsOptions;

export const queues = {
  /** Runs a pipeline run (provision or destroy) step by step. */
  provision: {
    name: "provision",
    payload: z.object({ runId: z.string().uuid() }),
    defaults: durableJob,
  },
  /**
   * Runs one lifecycle action of a delivered environment (start, stop, migrate, move): the
   * row in environment_actions says what; the processor resumes or finishes it.
   */
  lifecycle: {
    name: "lifecycle",
    payload: z.object({ actionId: z.string().uuid() }),
    defaults: durableJob,
  },
  /**
   * Repeatable housekeeping: reconcile runs the database says are in flight; leases (warn,
   * stop at expiry, retire after grace); courses (retire a course's machines at its end).
   * `now` sets the clock of a sweep (tests); without it the sweep uses the current time.
   */
  maintenance: {
    name: "maintenance",
    payload: z.discriminatedUnion("task", [
      z.object({ task: z.literal("reconcile") }),
      z.object({ task: z.literal("leases"), now: z.string().datetime().optional() }),
      z.object({ task: z.literal("courses"), now: z.string().datetime().optional() }),
      /** A scheduled backup of one environment (its backup policy's job scheduler, lib/backups/policy.ts). */
      z.object({ task: z.literal("backup"), environmentId: z.string().uuid() }),
      /**
       * Samples the use of running environments and hosts (lib/usage): on the shared queue the
       * hosts no worker owns, on a worker's own queue (`maintenance@<id>`) that worker's hosts.
       */
      z.object({ task: z.literal("usage"), now: z.string().datetime().optional() }),
      /**
       * Applies which networks may reach each other (lib/net/routes.ts) on running hosts: on the
       * shared queue the hosts no worker owns, on a worker's own queue that worker's hosts.
       */
      z.object({ task: z.literal("network-policy") }),
    ]),
    defaults: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } satisfies JobsOptions,
  },
  /**
   * Follows one batch of moves (a host evacuation or a rebalance) from its `evacuations` row:
   * starts up to its `parallel` moves at a time as lifecycle actions and records how each
   * ended. Long-running; given back to the queue when the worker stops, and resumed from the
   * rows by the next one.
   */
  fleet: {
    name: "fleet",
    payload: z.object({ evacuationId: z.string().uuid() }),
    defaults: durableJob,
  },
  /**
   * Sends one e-mail of the outbox (the mails table): retried with doubling waits while the
   * mail server is unreachable, then marked failed. The row says what to send.
   */
  mail: {
    name: "mail",
    payload: z.object({ mailId: z.string().uuid() }),
    defaults: {
      attempts: env.MAIL_ATTEMPTS,
      backoff: { type: "exponential", delay: env.MAIL_RETRY_MS },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    } satisfies JobsOptions,
  },
} as const;

export type QueueName = keyof typeof queues;
export type Payload<N extends QueueName> = z.infer<(typeof queues)[N]["payload"]>;

const store = globalThis as unknown as { __portalQueues?: Map<string, { queue: Queue; connection: Redis }> };

export function getQueue<N extends QueueName>(name: N): Queue {
  return openQueue(queues[name].name, queues[name].defaults);
}

/** Queues that have a queue per owning worker besides the shared one (lib/workers/routing.ts). */
export type OwnedQueueName = "provision" | "lifecycle" | "maintenance";

/** `provision@qemu-box`: the jobs only worker `owner` may run (BullMQ names may not hold ':'). */
export function ownedQueueName(name: OwnedQueueName, owner: string): string {
  return `${queues[name].name}@${owner}`;
}

/** The shared queue `name`, or with an owner the queue of that worker alone. */
export function queueFor(name: OwnedQueueName, owner?: string | null): Queue {
  return owner ? openQueue(ownedQueueName(name, owner), queues[name].defaults) : getQueue(name);
}

function openQueue(name: string, defaults: JobsOptions): Queue {
  store.__portalQueues ??= new Map();
  let q = store.__portalQueues.get(name)?.queue;
  if (!q) {
    const connection = createRedis();
    q = new Queue(name, {
      connection,
      prefix: redisPrefix,
      defaultJobOptions: defaults,
    });
    // One line when Redis goes away, not one per reconnect attempt; the reconciler catches up.
    let down = false;
    q.on("error", (err) => {
      if (down) return;
      down = true;
      console.error(`[jobs] queue ${name}: Redis unavailable (${err.message}); runs stay queued in the database until it is back`);
    });
    connection.on("ready", () => {
      if (down) console.log(`[jobs] queue ${name}: Redis is back`);
      down = false;
    });
    store.__portalQueues.set(name, { queue: q, connection });
  }
  return q;
}

/**
 * The repeatable maintenance jobs the worker keeps scheduled: the reconciler, and the lease and
 * course sweeps. Redis losing its data (FLUSHALL, a failover to an empty replica) loses them
 * too: the worker checks they exist and re-creates missing ones, and health reports them.
 */
export const jobSchedulers = {
  reconcile: () => env.RECONCILE_INTERVAL_MS,
  leases: () => env.LEASE_SWEEP_INTERVAL_MS,
  courses: () => env.LEASE_SWEEP_INTERVAL_MS,
  /** Usage of the hosts no worker owns; each worker samples its own hosts (upsertOwnedUsageScheduler). */
  usage: () => env.USAGE_SAMPLE_MS,
} as const;
export type SchedulerName = keyof typeof jobSchedulers;

/** The job scheduler of an environment's backup policy. */
export function backupSchedulerId(environmentId: string): string {
  return `backup-${environmentId}`;
}

/**
 * Creates or changes the scheduler that backs the environment up on `pattern` (cron, UTC);
 * returns when it fires next. BullMQ refuses a pattern it cannot read (the error says why).
 */
export async function upsertBackupScheduler(environmentId: string, pattern: string): Promise<Date | null> {
  const queue = getQueue("maintenance");
  const id = backupSchedulerId(environmentId);
  const data: Payload<"maintenance"> = { task: "backup", environmentId };
  await queue.upsertJobScheduler(id, { pattern, tz: "UTC" }, { name: "backup", data, opts: queues.maintenance.defaults });
  const next = (await queue.getJobScheduler(id))?.next;
  return next ? new Date(next) : null;
}

export async function removeBackupScheduler(environmentId: string): Promise<void> {
  await getQueue("maintenance").removeJobScheduler(backupSchedulerId(environmentId));
}

/**
 * The usage sampler of the hosts worker `owner` owns (its local QEMU hosts, which no other
 * worker can read), on that worker's own maintenance queue. Returns whether it had to be made.
 */
export async function upsertOwnedUsageScheduler(owner: string, opts: { onlyIfMissing?: boolean } = {}): Promise<boolean> {
  const queue = queueFor("maintenance", owner);
  if (opts.onlyIfMissing && (await queue.getJobScheduler("usage"))) return false;
  const data: Payload<"maintenance"> = { task: "usage" };
  await queue.upsertJobScheduler("usage", { every: env.USAGE_SAMPLE_MS }, { name: "usage", data, opts: queues.maintenance.defaults });
  return true;
}

/** Schedulers that Redis does not have (all of them before a worker first started). */
export async function missingSchedulers(): Promise<SchedulerName[]> {
  const queue = getQueue("maintenance");
  const names = Object.keys(jobSchedulers) as SchedulerName[];
  const found = await Promise.all(names.map((name) => queue.getJobScheduler(name)));
  return names.filter((_, i) => !found[i]);
}

/** Creates (or updates) the schedulers `names`, all by default. */
export async function upsertSchedulers(names: SchedulerName[] = Object.keys(jobSchedulers) as SchedulerName[]): Promise<void> {
  const queue = getQueue("maintenance");
  for (const task of names) {
    await queue.upsertJobScheduler(task, { every: jobSchedulers[task]() }, { name: task, data: { task }, opts: queues.maintenance.defaults });
  }
}

/** Job id of a run's current attempt: a retry is a new job, a re-enqueue of the same attempt is not. */
export function runJobId(runId: string, attempt: number): string {
  return `run-${runId}-a${attempt}`;
}

/** `owner`: the run's host belongs to that worker; its job goes to that worker's queue. */
export async function enqueueRun(p: Payload<"provision"> & { attempt: number; owner?: string | null }): Promise<void> {
  const payload = queues.provision.payload.parse({ runId: p.runId });
  await queueFor("provision", p.owner).add("run", payload, { jobId: runJobId(p.runId, p.attempt) });
}

/**
 * A second job for a run whose worker is gone (its lease expired) while its own job still
 * looks active in Redis until the job's lock expires: one per incident (`since`: when the
 * lease expired or the job was taken), so the run resumes now. The old job, once Redis gives
 * it back, finds the run claimed or done.
 */
export async function enqueueTakeover(p: { runId: string; attempt: number; since: Date }): Promise<void> {
  const payload = queues.provision.payload.parse({ runId: p.runId });
  await getQueue("provision").add("run", payload, { jobId: `${runJobId(p.runId, p.attempt)}-t${p.since.getTime()}` });
}

/** Runs a maintenance task soon (besides its schedule), e.g. a lease sweep after an extension. */
export async function enqueueMaintenance(p: Payload<"maintenance">, opts: { jobId?: string } = {}): Promise<string | undefined> {
  const payload = queues.maintenance.payload.parse(p);
  const job = await getQueue("maintenance").add(payload.task, payload, opts.jobId ? { jobId: opts.jobId } : {});
  return job.id;
}

/** Applies the network policy now: to the hosts no worker owns, and on each of `owners` to that worker's hosts. */
export async function enqueueNetworkPolicy(owners: string[]): Promise<void> {
  const data: Payload<"maintenance"> = { task: "network-policy" };
  await getQueue("maintenance").add("network-policy", data);
  for (const owner of new Set(owners)) await queueFor("maintenance", owner).add("network-policy", data);
}

/** Job id of a lifecycle action: one job per action, so a re-enqueue is not a second job. */
export function actionJobId(actionId: string): string {
  return `action-${actionId}`;
}

export async function enqueueLifecycle(p: Payload<"lifecycle">, owner?: string | null): Promise<void> {
  const payload = queues.lifecycle.payload.parse(p);
  await queueFor("lifecycle", owner).add("action", payload, { jobId: actionJobId(payload.actionId) });
}

/** Job id of a batch of moves: one job per evacuation, so a re-enqueue is not a second runner. */
export function evacuationJobId(evacuationId: string): string {
  return `evacuation-${evacuationId}`;
}

export async function enqueueEvacuation(p: Payload<"fleet">): Promise<void> {
  const payload = queues.fleet.payload.parse(p);
  await getQueue("fleet").add("evacuation", payload, { jobId: evacuationJobId(payload.evacuationId) });
}

/** Job id of an e-mail: one job per mail, so a re-enqueue is not a second e-mail. */
export function mailJobId(mailId: string): string {
  return `mail-${mailId}`;
}

export async function enqueueMails(mailIds: string[]): Promise<void> {
  if (mailIds.length === 0) return;
  const jobs = mailIds.map((mailId) => ({ name: "send", data: queues.mail.payload.parse({ mailId }), opts: { jobId: mailJobId(mailId) } }));
  await getQueue("mail").addBulk(jobs);
}

/** How long a request waits for Redis before leaving the work to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Enqueues work the database already holds (a run, an action, an e-mail). If Redis is
 * unreachable or slow now, it says so in one line and returns false: the reconciler enqueues
 * the work later, so nothing is lost.
 */
export async function enqueueOrLeave(what: string, enqueue: () => Promise<unknown>): Promise<boolean> {
  try {
    await Promise.race([
      enqueue(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("enqueue timed out")), ENQUEUE_TIMEOUT_MS).unref()),
    ]);
    return true;
  } catch (err) {
    console.error(`[jobs] could not enqueue ${what}; the reconciler will retry:`, (err as Error).message);
    return false;
  }
}

export async function closeQueues(): Promise<void> {
  const all = [...(store.__portalQueues?.values() ?? [])];
  store.__portalQueues = undefined;
  // A Queue closes only connections it made; the ones handed to it are closed here.
  await Promise.all(all.map(({ queue }) => queue.close()));
  await Promise.all(all.map(({ connection }) => connection.quit().catch(() => connection.disconnect())));
}
