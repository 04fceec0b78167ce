import { and, asc, eq, sql } from "drizzle-orm";
import { isDatabaseUnavailable, type Db } from "../db/client";
import { environments, images, networks, orders, pipelineRuns, pipelineSteps, serviceIps, stepLogs, type HostKind } from "../db/schema";
import { observe, observeQuietly } from "../metrics/histograms";
import { supportedHostKinds } from "../drivers";
import { driverFor } from "./drivers";
import { GUEST_LOGIN_USER, StepError, type StepIo } from "../drivers/types";
import { sshFingerprint, sshKeyName } from "../validation/ssh-fingerprint";
import { UserError } from "../errors";
import { allocateAddress, releaseAddresses } from "../net/ipam";
import { placeEnvironment } from "../policy/placement";
import { hostPoolOf } from "../policy/groups";
import { writeAudit } from "../audit/write";
import { deploySpec, loadOrderContext, type OrderContext } from "./context";
import { announce } from "./events";
import { createRun, dispatchRun } from "./runs";
import { stepLabel } from "./steps";
import { executeLeased, LeaseLostError } from "./lease";
import { DAY_MS } from "../time";
import { recordOrderEvent } from "../notifications/order-events";
import { dispatchMail } from "../mail/outbox";
import { workerId } from "../env";
import { handOff, ownerOfRun } from "./handoff";
import { recipeForSpec } from "../recipes/deploy";

type StepFn = (db: Db, ctx: OrderContext, io: StepIo) => Promise<void>;

/** Steps the portal does itself; the others are the host's driver's. */
const portalSteps: Record<string, StepFn> = {
  async place(db, ctx, io) {
    if (ctx.environment) {
      await io.log(`already placed on ${ctx.host?.name}`);
      return;
    }
    const reason = await db.transaction(async (tx) => {
      const placement = await placeEnvironment(
        tx,
        {
          kinds: ctx.image.hostKinds.filter((k): k is HostKind => supportedHostKinds.includes(k as HostKind)),
          vcpus: ctx.flavor.vcpus,
          memoryMb: ctx.flavor.memoryMb,
          diskGb: ctx.flavor.diskGb,
        },
        // A group with hosts of its own (a batch cluster's pool) is placed only on those.
        { pool: await hostPoolOf(tx, ctx.order.groupId) },
      );
      const placed = {
        hostId: placement.hostId,
        hostname: ctx.order.name,
        vcpus: ctx.flavor.vcpus,
        memoryMb: ctx.flavor.memoryMb,
        diskGb: ctx.flavor.diskGb,
        placement: placement.reason,
        expiresAt: new Date(Date.now() + ctx.order.leaseDays * DAY_MS),
      };
      // A retry after a failed order's hold was released places it anew in its deleted row.
      const row = await tx
        .insert(environments)
        .values({ orderId: ctx.order.id, ...placed })
        .onConflictDoUpdate({
          target: environments.orderId,
          set: { ...placed, state: "creating", createdAt: new Date(), deletedAt: null },
          setWhere: eq(environments.state, "deleted"),
        })
        .returning({ id: environments.id });
      if (row.length === 0) throw new Error("the order's environment was placed by another run meanwhile");
      return placement.reason;
    });
    // Logged after commit: the log uses its own connection (PGlite has only one).
    await io.log(`placed on ${reason}`);
  },
  async allocate(db, ctx, io) {
    const [service] = await db.select().from(networks).where(eq(networks.purpose, "service")).orderBy(asc(networks.createdAt)).limit(1);
    const wanted = [...new Set([service?.id, ctx.order.networkId].filter((id): id is string => Boolean(id)))];
    for (const networkId of wanted) {
      const a = await allocateAddress(db, networkId, ctx.order.id);
      await io.log(`address ${a.ip} mac ${a.mac} on network ${networkId === service?.id ? service.name : "of the order"}`);
    }
  },
  async handover(db, ctx, io) {
    // The order turns ready when the run finishes (finishProvision), in the same commit.
    await db.update(environments).set({ state: "running" }).where(eq(environments.orderId, ctx.order.id));
    const minutes = ((Date.now() - ctx.order.createdAt.getTime()) / 60000).toFixed(1);
    await io.log(`handed over to ${ctx.user.email}: ${minutes} min from order to ready`);
  },
  async release(db, ctx, io) {
    const freed = await releaseAddresses(db, ctx.order.id);
    // Service IPs belong to the group and stay reserved; they no longer point at this environment.
    const unpointed = ctx.environment
      ? await db.update(serviceIps).set({ environmentId: null, attachedAt: null }).where(eq(serviceIps.environmentId, ctx.environment.id)).returning({ ip: serviceIps.ip })
      : [];
    if (unpointed.length) await io.log(`service IP${unpointed.length === 1 ? "" : "s"} ${unpointed.map((s) => s.ip).join(", ")} now point${unpointed.length === 1 ? "s" : ""} nowhere (still reserved for the group)`);
    await db
      .update(environments)
      .set({ state: "deleted", deletedAt: new Date() })
      .where(eq(environments.orderId, ctx.order.id));
    await db
      .update(orders)
      .set({ status: "retired", updatedAt: new Date() })
      .where(and(eq(orders.id, ctx.order.id), eq(orders.status, "retiring")));
    await io.log(`freed ${freed} address${freed === 1 ? "" : "es"}`);
  },
};

/** Steps done by the host's driver; skipped when nothing was placed (nothing to undo). */
const driverSteps: Record<string, (d: ReturnType<typeof driverFor>) => (spec: ReturnType<typeof deploySpec>, io: StepIo) => Promise<void>> = {
  resolve: (d) => d.resolveImage.bind(d),
  pack: (d) => d.packImage.bind(d),
  storage: (d) => d.createStorage.bind(d),
  unpack: (d) => d.unpack.bind(d),
  networking: (d) => d.configureNetwork.bind(d),
  glue: (d) => d.glue.bind(d),
  boot: (d) => d.boot.bind(d),
  wait_ready: (d) => d.waitReady.bind(d),
  halt: (d) => d.halt.bind(d),
  destroy: (d) => d.destroy.bind(d),
};

const recipeSteps = new Set(["glue", "boot", "wait_ready"]);

async function runStep(db: Db, name: string, ctx: OrderContext, io: StepIo, keepData: boolean): Promise<"done" | "skipped"> {
  const own = portalSteps[name];
  if (own) {
    await own(db, ctx, io);
    return "done";
  }
  const pick = driverSteps[name];
  if (!pick) throw new Error(`unknown step ${name}`);
  if (!ctx.host) {
    if (ctx.order.status === "retiring" || ctx.order.status === "cancelled") return "skipped";
    throw new Error(`step ${name} needs a placed environment`);
  }
  const spec = { ...deploySpec(ctx), keepData };
  // The order's recipe, accounts and settings go into the guest at glue; boot and wait-until-ready check them.
  const withRecipe = recipeSteps.has(name) ? { ...spec, ...(await recipeForSpec(db, ctx.order, spec, { writes: name === "glue" })) } : spec;
  await pick(driverFor(ctx.host.kind, db))(withRecipe, io);
  if (name === "glue") await recordLogin(db, ctx);
  return "done";
}

/** What glue set up for the owner, kept on the environment: the order page says how to log in with it. */
async function recordLogin(db: Db, ctx: OrderContext) {
  const key = ctx.user.sshPublicKey;
  const keys = key ? [{ name: sshKeyName(key), fingerprint: sshFingerprint(key) }] : [];
  await db.update(environments).set({ login: { user: GUEST_LOGIN_USER, keys } }).where(eq(environments.orderId, ctx.order.id));
}

/**
 * "stopped": the worker is shutting down; the run stopped between two steps and waits for the
 * next worker. "handed": the run's host belongs to another worker; its job is in that worker's queue.
 */
export type RunOutcome = "succeeded" | "failed" | "cancelled" | "skipped" | "stopped" | "handed";

/**
 * Runs a pipeline run from its first unfinished step. Safe to call again for the same run
 * (a redelivered job, a restarted worker): finished steps are not repeated and every step
 * checks whether its work is already done.
 */
/**
 * What a step is expected to take when it starts (milliseconds, or null when nothing is known);
 * the worker passes the delivery figures' estimator, so the engine does not depend on them.
 */
export type StepEstimate = (ctx: OrderContext, step: string) => Promise<number | null>;

export async function executeRun(
  db: Db,
  runId: string,
  signal: AbortSignal = new AbortController().signal,
  opts: { estimate?: StepEstimate; drain?: AbortSignal } = {},
): Promise<RunOutcome> {
  const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId));
  if (!run || run.status === "succeeded" || run.status === "cancelled" || run.status === "failed") return "skipped";
  const owner = await ownerOfRun(db, run);
  if (owner && owner !== workerId) return handOff(db, run, owner);
  // Null: another worker (or this one) holds a live lease on it and is executing it.
  const outcome = (await executeLeased(db, runId, signal, (leased) => executeClaimedRun(db, run, leased, opts))) ?? "skipped";
  // Placed on a host another worker owns: that worker goes on (after this lease is released).
  return typeof outcome === "string" ? outcome : handOff(db, run, outcome.handOffTo);
}

async function executeClaimedRun(
  db: Db,
  run: typeof pipelineRuns.$inferSelect,
  signal: AbortSignal,
  opts: { estimate?: StepEstimate; drain?: AbortSignal },
): Promise<RunOutcome | { handOffTo: string }> {
  const runId = run.id;
  const orderId = run.orderId;

  if (run.kind === "provision") {
    const started = await db
      .update(orders)
      .set({ status: "provisioning", updatedAt: new Date() })
      .where(and(eq(orders.id, orderId), sql`${orders.status} in ('queued', 'provisioning')`))
      .returning({ id: orders.id });
    if (started.length === 0) {
      await finishRun(db, runId, "cancelled", "the order is no longer waiting to be provisioned");
      // Cancelled while no worker had it (between two workers): take down what was built.
      const [now] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
      if (run.status === "running" && now?.status === "cancelled") await startTeardown(db, orderId);
      await announce(orderId, "run");
      return "cancelled";
    }
  }
  await announce(orderId, "run");

  const steps = await db.select().from(pipelineSteps).where(eq(pipelineSteps.runId, runId)).orderBy(asc(pipelineSteps.position));
  const estimate = opts.estimate ?? (async () => null);
  for (const step of steps) {
    if (step.status === "succeeded" || step.status === "skipped") continue;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("the run was aborted");
    if (opts.drain?.aborted) {
      // Shutting down: stop between two steps; the run keeps its place for the next worker.
      const position = `stopped before "${stepLabel(step.name)}": the worker is shutting down; the next worker continues here`;
      await db.insert(stepLogs).values({ stepId: step.id, attempt: step.attempt, line: position });
      await announce(orderId, "log");
      return "stopped";
    }
    const ctx = await loadOrderContext(db, orderId);
    if (run.kind === "provision" && ctx.order.status !== "provisioning") {
      await finishRun(db, runId, "cancelled", "cancelled by the customer");
      await startTeardown(db, orderId);
      return "cancelled";
    }
    const owner = ctx.host?.ownerWorker;
    if (owner && owner !== workerId) return { handOffTo: owner };
    const attempt = step.attempt + 1;
    const estimateMs = run.kind === "provision" ? await estimate(ctx, step.name) : null;
    await db
      .update(pipelineSteps)
      .set({ status: "running", attempt, startedAt: new Date(), finishedAt: null, error: null, estimateMs, workerId })
      .where(eq(pipelineSteps.id, step.id));
    await announce(orderId, "step");
    const io: StepIo = {
      signal,
      log: async (line) => {
        await db.insert(stepLogs).values({ stepId: step.id, attempt, line: line.slice(0, 2000) });
        await announce(orderId, "log");
      },
    };
    try {
      const startedAt = Date.now();
      const result = await runStep(db, step.name, ctx, io, run.keepData);
      await db
        .update(pipelineSteps)
        .set({ status: result === "skipped" ? "skipped" : "succeeded", finishedAt: new Date() })
        .where(eq(pipelineSteps.id, step.id));
      if (run.kind === "provision" && result !== "skipped") {
        await observeQuietly(db, "portal_step_duration_seconds", { step: step.name, host_kind: ctx.host?.kind ?? "none" }, (Date.now() - startedAt) / 1000);
      }
      await announce(orderId, "step");
    } catch (err) {
      if (signal.aborted && !(signal.reason instanceof LeaseLostError)) {
        // Cut off mid-step (the grace period ran out, or the run was aborted): the step is to
        // be done again by the next worker; say so on the order's page.
        await db.insert(stepLogs).values({ stepId: step.id, attempt, line: "interrupted: the worker stopped during this step; it runs again on the next worker" }).catch(() => {});
        await db.update(pipelineSteps).set({ status: "pending" }).where(and(eq(pipelineSteps.id, step.id), eq(pipelineSteps.status, "running"))).catch(() => {});
      }
      if (signal.aborted) throw signal.reason instanceof LeaseLostError ? signal.reason : err; // redelivered (or taken over): resumes here
      // The database went away under the step: not the step's failure; the step is retried.
      if (isDatabaseUnavailable(err)) throw err;
      const known = err instanceof StepError || err instanceof UserError;
      const message = known ? (err as Error).message : "internal error in the worker (details are in the worker's log)";
      if (!known) console.error(`[pipeline] run ${runId} step ${step.name} failed:`, err);
      await db.insert(stepLogs).values({ stepId: step.id, attempt, line: `error: ${message}` });
      await db.update(pipelineSteps).set({ status: "failed", finishedAt: new Date(), error: message }).where(eq(pipelineSteps.id, step.id));
      await failOrder(db, run, { step: stepLabel(step.name), message });
      return "failed";
    }
  }
  if (run.kind === "provision" && !(await finishProvision(db, runId, orderId))) {
    await finishRun(db, runId, "cancelled", "cancelled by the customer");
    await startTeardown(db, orderId);
    return "cancelled";
  }
  if (run.kind !== "provision") await finishRun(db, runId, "succeeded", null);
  await announce(orderId, "done");
  return "succeeded";
}

/**
 * The run succeeded and the order is ready, with its owner told, in one commit; false if it
 * was cancelled meanwhile.
 */
async function finishProvision(db: Db, runId: string, orderId: string): Promise<boolean> {
  const mailIds = await db.transaction(async (tx) => {
    const now = new Date();
    const done = await tx
      .update(orders)
      .set({ status: "ready", readyAt: now, updatedAt: now, reason: null })
      .where(and(eq(orders.id, orderId), eq(orders.status, "provisioning")))
      .returning({ id: orders.id, imageId: orders.imageId, createdAt: orders.createdAt });
    if (done.length === 0) return null;
    await finishRun(tx, runId, "succeeded", null);
    const [image] = await tx.select({ slug: images.slug }).from(images).where(eq(images.id, done[0].imageId));
    await observe(tx, "portal_delivery_seconds", { image: image?.slug ?? "unknown" }, (now.getTime() - done[0].createdAt.getTime()) / 1000);
    return recordOrderEvent(tx, { kind: "order.ready", orderId });
  });
  if (!mailIds) return false;
  await dispatchMail(mailIds);
  return true;
}

/**
 * A run failed (at `step`, or from outside its steps): the run and the order say why, and the
 * owner is told, in one commit. An order no longer being built or torn down keeps its state.
 */
async function failOrder(db: Db, run: { id: string; orderId: string; kind: string }, failure: { step: string | null; message: string }) {
  const reason = failure.step ? `Step "${failure.step}" failed: ${failure.message}` : failure.message;
  const mailIds = await db.transaction(async (tx) => {
    await finishRun(tx, run.id, "failed", reason);
    const failed = await tx
      .update(orders)
      .set({ status: "failed", reason, updatedAt: new Date() })
      .where(and(eq(orders.id, run.orderId), sql`${orders.status} in ('queued', 'provisioning', 'retiring')`))
      .returning({ id: orders.id });
    if (run.kind === "destroy") {
      await tx.update(environments).set({ state: "error" }).where(eq(environments.orderId, run.orderId));
    }
    return failed.length ? recordOrderEvent(tx, { kind: "order.failed", orderId: run.orderId, step: failure.step, error: failure.message }) : [];
  });
  await dispatchMail(mailIds);
  await announce(run.orderId, "failed");
}

async function finishRun(db: Db, runId: string, status: "succeeded" | "failed" | "cancelled", error: string | null) {
  await db.update(pipelineRuns).set({ status, error, finishedAt: new Date() }).where(eq(pipelineRuns.id, runId));
}

/**
 * Compensation: a teardown run that stops and removes whatever the order built and frees
 * its addresses. Used for destroy, for cancel after provisioning began, and for retire.
 */
export async function startTeardown(db: Db, orderId: string, actorId?: string): Promise<void> {
  const run = await db.transaction(async (tx) => {
    await tx.update(environments).set({ state: "deleting" }).where(and(eq(environments.orderId, orderId), sql`${environments.state} <> 'deleted'`));
    return createRun(tx, orderId, "destroy");
  });
  if (actorId) await writeAudit(db, { actorId, action: "environment.destroy", targetType: "order", targetId: orderId });
  await announce(orderId, "teardown");
  await dispatchRun(run);
}

/**
 * Marks a run failed from outside its steps (its job ran out of attempts, e.g. the database
 * kept failing), so the order shows "failed" with a retry button instead of hanging.
 */
export async function failRun(db: Db, runId: string, message: string): Promise<void> {
  const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId));
  if (!run || run.status === "succeeded" || run.status === "cancelled") return;
  const stopped = await db
    .update(pipelineSteps)
    .set({ status: "failed", error: message, finishedAt: new Date() })
    .where(and(eq(pipelineSteps.runId, runId), eq(pipelineSteps.status, "running")))
    .returning({ name: pipelineSteps.name });
  await failOrder(db, run, { step: stopped[0] ? stepLabel(stopped[0].name) : null, message });
}
