/**
 * Real worker processes and real QEMU: a worker SIGKILLed while the guest boots leaves the
 * guest running (QEMU is daemonized, outside the worker's process group); the next worker
 * finds that same QEMU process instead of starting a second one and delivers the order.
 * A guest that stops behind the portal's back is seen as stopped by the reconciler.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { environmentActions, environments } from "@/lib/db/schema";
import { guestPid } from "@/lib/drivers/qemu/process";
import { requestAction } from "@/lib/lifecycle/actions";
import { destroyEnvironment } from "@/lib/orders/queries";
import { bootPortal, makeGroup, makeUser, order, provisionSteps, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";
import { local, qemuProcessesFor, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";
import { killAllWorkers, startWorkerProcess, untilReady } from "../helpers/worker-process";

const { db } = await bootPortal();
let qemu: QemuHosts;
let customer: Actor;
const workerEnv = { JOB_LOCK_MS: "2000", RECONCILE_INTERVAL_MS: "1000", WORKER_CONCURRENCY: "2" };
const BOOT_MS = 240_000;

beforeAll(async () => {
  qemu = await setupQemuHosts(db, 1);
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
}, 300_000);

afterAll(async () => {
  await killAllWorkers();
  await qemu?.cleanup();
});

describe("QEMU guests across worker restarts", () => {
  let orderId: string;
  let hostname: string;
  let dir: string;

  it("SIGKILL of the worker while the guest boots: the guest keeps running, the next worker finds the same QEMU and delivers", async () => {
    const first = startWorkerProcess(workerEnv);
    await untilReady(first);
    hostname = unique("qk");
    orderId = (await order(db, customer, { image: "linux-qemu", flavor: "small", name: hostname })).id;
    dir = qemu.guestDir(qemu.hosts[0].name, hostname);

    // Kill as soon as QEMU runs: during boot or while waiting for the guest's ready line.
    const steps = await waitFor(
      () => provisionSteps(db, orderId),
      (s) => s.some((x) => x.name === "wait_ready" && x.status === "running") || s.some((x) => x.status === "failed"),
      { timeoutMs: BOOT_MS, intervalMs: 50, what: "the wait_ready step to run" },
    );
    expect(steps.filter((s) => s.status === "failed"), first.output()).toEqual([]);
    const before = await qemuProcessesFor(dir);
    expect(before).toHaveLength(1);
    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    // QEMU outlived the worker.
    expect(await qemuProcessesFor(dir)).toEqual(before);

    const second = startWorkerProcess(workerEnv);
    await untilReady(second);
    const view = await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
    expect(view.status, `${JSON.stringify(view.steps.find((s) => s.status === "failed"))}\n${second.output()}`).toBe("ready");
    // Never two QEMU processes for one environment: the same process, found again.
    expect(await qemuProcessesFor(dir)).toEqual(before);
    const waitStep = view.steps.find((s) => s.name === "wait_ready")!;
    expect(waitStep.attempt).toBe(2);
    expect(waitStep.log.some((l) => l.line.startsWith("PORTAL-READY ") && l.line.includes(`hostname=${hostname}`))).toBe(true);
    expect(view.steps.find((s) => s.name === "boot")!.attempt).toBe(1);
  }, 2 * BOOT_MS);

  it("a guest that stops behind the portal's back is reported stopped by the reconciler, and starts again", async () => {
    const pid = (await guestPid(local, dir))!;
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, "SIGTERM"); // QEMU exits on SIGTERM, as if the host's admin stopped it
    const [env] = await db.select().from(environments).where(eq(environments.orderId, orderId));
    await waitFor(
      async () => (await db.select({ state: environments.state }).from(environments).where(eq(environments.id, env.id)))[0].state,
      (s) => s === "stopped",
      { timeoutMs: 30_000, intervalMs: 200, what: "the reconciler to see the guest stopped" },
    );

    const action = await requestAction(db, customer, env.id, "start");
    const started = await waitFor(
      async () => (await db.select({ status: environmentActions.status }).from(environmentActions).where(eq(environmentActions.id, action.id)))[0].status,
      (s) => s === "succeeded" || s === "failed",
      { timeoutMs: BOOT_MS, intervalMs: 200, what: `start action ${action.id}` },
    );
    expect(started).toBe("succeeded");
    expect((await db.select({ state: environments.state }).from(environments).where(eq(environments.id, env.id)))[0].state).toBe("running");
    expect(await qemuProcessesFor(dir)).toHaveLength(1);

    await destroyEnvironment(db, customer, orderId);
    await waitForOrder(db, orderId, ["retired", "failed"], 120_000);
    expect(await qemuProcessesFor(dir)).toEqual([]);
  }, 2 * BOOT_MS);
});
