/**
 * Real worker processes against the file's database and Redis: a worker killed with SIGKILL in
 * the middle of a step is replaced and the order is delivered once; SIGTERM lets the running
 * order finish and exits 0.
 */
import { afterAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { orderView } from "@/lib/orders/queries";
import { environments, simObjects } from "@/lib/db/schema";
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

  it("SIGTERM lets the running order finish, then the worker exits 0", async () => {
    const worker = startWorkerProcess(workerEnv);
    await untilReady(worker);
    const created = await order(db, admin);
    await untilMiddleStepRuns(created.id);

    worker.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain("[worker] SIGTERM: finishing running steps, then stopping");
    // Read at once, no waiting: the worker finished the order before it exited.
    const view = await orderView(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.steps.every((s) => s.status === "succeeded" && s.attempt === 1)).toBe(true);
  });
});
