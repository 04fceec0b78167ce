/**
 * Real worker processes against the file's database and Redis: a worker killed with SIGKILL in
 * the middle of a step is replaced and the order is delivered once; SIGTERM stops the running
 * order after its current step, exits 0, and the next worker resumes it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { environments, hosts, simObjects } from "@/lib/db/schema";
import { allocationsOf, bootPortal, order, orderStatus, provisionSteps, waitFor, waitForOrder } from "../helpers/portal";
import { killAllWorkers, startWorkerProcess, untilReady } from "../helpers/worker-process";

const { db, admin } = await bootPortal();

const workerEnv = { SIM_STEP_MS: "300", JOB_LOCK_MS: "2000", RECONCILE_INTERVAL_MS: "1000", WORKER_CONCURRENCY: "4" };

afterAll(async () => {
  await killAllWorkers();
});

/** Waits until a step in the middle of the pipeline is running and returns its name. */
async function untilMiddleStepRuns(orderId: string) {
  const middle = ["storage", "unpack", "networking"];
  const steps = await waitFor(
    () => provisionSteps(db, orderId),
    (s) => s.some((x) => middle.includes(x.name) && x.status === "running"),
    { what: "a middle step to run", timeoutMs: 30_000, intervalMs: 20 },
  );
  return steps.find((x) => x.status === "running")!.name;
}

describe("worker processes", () => {
  it("SIGKILL in the middle of a step: a new worker resumes the order, which is delivered exactly once", async () => {
    const first = startWorkerProcess(workerEnv);
    await untilReady(first);
    const created = await order(db, admin);
    await untilMiddleStepRuns(created.id);

    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    // Normally the step we saw running; on a slow machine the kill may land between two steps.
    const interrupted = (await provisionSteps(db, created.id)).filter((s) => s.status === "running");
    expect(interrupted.length).toBeLessThanOrEqual(1);
    expect((await orderStatus(db, created.id)).status).toBe("provisioning");

    const second = startWorkerProcess(workerEnv);
    await untilReady(second);
    const view = await waitForOrder(db, created.id, ["ready", "failed"], 45_000);
    expect(view.status, second.output()).toBe("ready");
    for (const step of view.steps) {
      expect(step.status, step.name).toBe("succeeded");
      expect(step.attempt, step.name).toBe(step.name === interrupted[0]?.name ? 2 : 1);
    }

    expect(await db.select().from(environments).where(eq(environments.orderId, created.id))).toHaveLength(1);
    expect((await allocationsOf(db, created.id)).map((a) => a.network)).toEqual(["production", "service"]);
    const objects = await db.select().from(simObjects);
    expect(objects.filter((o) => o.name === view.environment!.hostname).length).toBeGreaterThan(0);
    expect(objects.filter((o) => o.createdCount > 1)).toEqual([]);

    second.kill("SIGKILL");
    await second.exited;
  });

  it("SIGTERM in the middle of a step: the worker stops after that step and exits 0; the next worker resumes the order", async () => {
    const worker = startWorkerProcess(workerEnv);
    await untilReady(worker);
    const created = await order(db, admin);
    const stepName = await untilMiddleStepRuns(created.id);

    worker.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain("[worker] SIGTERM: stopping each run after its current step");
    // Read at once, no waiting: the step it was in finished, the pipeline did not.
    const steps = await provisionSteps(db, created.id);
    expect(steps.find((s) => s.name === stepName)?.status).toBe("succeeded");
    expect(steps.filter((s) => s.status === "running")).toEqual([]);
    expect(steps.at(-1)?.status).toBe("pending");
    expect((await orderStatus(db, created.id)).status).toBe("provisioning");

    const next = startWorkerProcess(workerEnv);
    await untilReady(next);
    const view = await waitForOrder(db, created.id, ["ready", "failed"], 30_000);
    expect(view.status, next.output()).toBe("ready");
    expect(view.steps.every((s) => s.status === "succeeded" && s.attempt === 1)).toBe(true);
    next.kill("SIGTERM");
    expect(await next.exited).toEqual({ code: 0, signal: null });
  });
  it("SIGTERM during a step longer than the grace period: the step is aborted, the worker exits 0, the next worker does that step again", async () => {
    const worker = startWorkerProcess({ ...workerEnv, WORKER_GRACE_MS: "1000" });
    await untilReady(worker);
    const created = await order(db, admin);
    await untilMiddleStepRuns(created.id);
    // The step now running takes a minute: longer than the grace period.
    await db.update(hosts).set({ config: { stepMs: 60_000 } }).where(eq(hosts.kind, "sim"));
    const slowedAt = new Date();
    const slow = await waitFor(
      () => provisionSteps(db, created.id),
      (s) => s.some((x) => x.status === "running" && x.startedAt! > slowedAt),
      { what: "a step started after the slow-down", timeoutMs: 15_000, intervalMs: 20 },
    );
    const cut = slow.find((x) => x.status === "running")!;

    const signalled = Date.now();
    worker.kill("SIGTERM");
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(worker.output()).toContain("steps still running after 1000 ms: aborting them");
    const after = (await provisionSteps(db, created.id)).find((x) => x.id === cut.id)!;
    expect(after).toMatchObject({ status: "pending", attempt: 1 });

    await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
    const next = startWorkerProcess(workerEnv);
    await untilReady(next);
    const view = await waitForOrder(db, created.id, ["ready", "failed"], 30_000);
    expect(view.status, next.output()).toBe("ready");
    expect(view.steps.find((x) => x.name === cut.name)?.attempt).toBe(2);
    next.kill("SIGTERM");
    expect(await next.exited).toEqual({ code: 0, signal: null });
  });
});
