import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray } from "drizzle-orm";
import { approveOrder, cancelOrder, orderView, rejectOrder, retryOrder } from "@/lib/orders/queries";
import { auditEvents, environments, hosts, ipAllocations, pipelineRuns, pipelineSteps, simObjects, stepLogs } from "@/lib/db/schema";
import { provisionSteps as stepDefinitions } from "@/lib/pipeline/steps";
import { inCidr } from "@/lib/net/ipv4";
import { macForIp } from "@/lib/net/mac";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import {
  bootPortal, injectFailures, makeGroup, makeUser, order, orderStatus, provisionSteps, waitFor, waitForOrder, type Actor,
} from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let autoCustomer: Actor;
let heldCustomer: Actor;
let approver: Actor;

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  const held = await makeGroup(db, { autoApprove: false });
  autoCustomer = await makeUser(db, "customer", auto.slug);
  heldCustomer = await makeUser(db, "customer", held.slug);
  approver = await makeUser(db, "approver", held.slug);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

describe("delivery with the sim driver", () => {
  it("delivers a customer's order in an auto-approving group: host, hostname, one address per network with the MAC rule", async () => {
    const created = await order(db, autoCustomer, { name: "auto-web-1" });
    expect(created.status).toBe("queued");
    expect(created.reason).toMatch(/auto-approved: group .* approves orders automatically/);

    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.readyAt).not.toBeNull();
    const environment = view.environment!;
    expect(environment.hostname).toBe("auto-web-1");
    expect(["sim-1", "sim-2"]).toContain(environment.host);
    expect(environment.state).toBe("running");

    const byNetwork = Object.fromEntries(environment.addresses.map((a) => [a.network, a]));
    expect(Object.keys(byNetwork).sort()).toEqual(["production", "service"]);
    expect(inCidr(byNetwork.production.ip, "10.30.0.0/24")).toBe(true);
    expect(inCidr(byNetwork.service.ip, "10.20.0.0/24")).toBe(true);
    for (const a of environment.addresses) {
      expect(a.ip).not.toMatch(/\.(0|1|255)$/); // network, gateway, broadcast
      expect(a.mac).toBe(macForIp(a.ip));
    }
    // The origin's rule spelled out for the production address.
    const [, , c, d] = byNetwork.production.ip.split(".").map(Number);
    expect(byNetwork.production.mac).toBe(`02:00:00:1e:${c.toString(16).padStart(2, "0")}:${d.toString(16).padStart(2, "0")}`);

    expect(view.steps.map((s) => s.name)).toEqual(stepDefinitions.map((s) => s.name));
    for (const step of view.steps) {
      expect(step, step.name).toMatchObject({ status: "succeeded", attempt: 1, error: null });
      expect(step.startedAt).not.toBeNull();
      expect(step.finishedAt).not.toBeNull();
      expect(step.log.length, `log lines of ${step.name}`).toBeGreaterThan(0);
    }
    expect(view.steps.find((s) => s.name === "handover")!.log.some((l) => l.line.includes(autoCustomer.email))).toBe(true);
    expect(view.run).toMatchObject({ status: "succeeded", attempt: 1 });
  });

  it("an order reads ready only once its pipeline has finished: no step still running", async () => {
    const created = await order(db, autoCustomer, { name: "ready-means-done" });
    // Poll the order's status alone, as a client would, and look at the run the moment it is ready.
    await waitFor(() => orderStatus(db, created.id), (o) => o.status === "ready" || o.status === "failed", { intervalMs: 5, what: "ready" });
    const view = await orderView(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.run?.status).toBe("succeeded");
    expect(view.steps.filter((s) => s.status !== "succeeded").map((s) => `${s.name}:${s.status}`)).toEqual([]);
  });

  it("an admin's order is approved by policy and delivered", async () => {
    const created = await order(db, admin, { image: "solaris10-sparse", flavor: "capped-2cpu-4g" });
    expect(created).toMatchObject({ status: "queued", reason: expect.stringContaining("auto-approved") });
    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.flavor.cpuCap).toBe(2);
    const glue = view.steps.find((s) => s.name === "glue")!;
    expect(glue.log.map((l) => l.line).join("\n")).toContain("capped at 2 CPUs");
  });
});

describe("approvals", () => {
  it("holds a customer's order with a reason until an approver approves it, then delivers it", async () => {
    const created = await order(db, heldCustomer);
    expect(created.status).toBe("pending_approval");
    expect(created.reason).toMatch(/held for approval: group .* requires an approver for customer orders/);
    // Nothing runs while it waits.
    const waiting = await orderView(db, created.id);
    expect(waiting.steps).toEqual([]);
    expect(waiting.environment).toBeUndefined();

    const approved = await approveOrder(db, approver, created.id, "fine for the course");
    expect(approved.status).toBe("queued");
    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.reason).toBeNull(); // handover clears the policy note
    expect(view.steps.every((s) => s.status === "succeeded" && s.attempt === 1)).toBe(true);
    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, created.id));
    expect(audit.map((a) => [a.action, a.actorId])).toEqual(
      expect.arrayContaining([["order.create", heldCustomer.id], ["order.approve", approver.id]]),
    );
  });

  it("a rejected order shows the approver's reason and never runs", async () => {
    const created = await order(db, heldCustomer);
    const rejected = await rejectOrder(db, approver, created.id, "no budget left this quarter");
    expect(rejected.status).toBe("rejected");
    const view = await orderView(db, created.id);
    expect(view.status).toBe("rejected");
    expect(view.reason).toBe(`rejected by ${approver.email}: no budget left this quarter`);
    expect(view.final).toBe(true);
    expect(view.steps).toEqual([]);
    const runs = await db.select().from(pipelineRuns).where(eq(pipelineRuns.orderId, created.id));
    expect(runs).toEqual([]);
  });

  it("a customer cannot approve, and an approved order cannot be approved again", async () => {
    const created = await order(db, heldCustomer);
    await expect(approveOrder(db, heldCustomer, created.id)).rejects.toMatchObject({ status: 403 });
    await approveOrder(db, approver, created.id);
    await expect(approveOrder(db, approver, created.id)).rejects.toMatchObject({ status: 409 });
    await expect(rejectOrder(db, approver, created.id, "too late now")).rejects.toMatchObject({ status: 409 });
    await waitForOrder(db, created.id);
  });
});

describe("failure and retry", () => {
  // Each test leaves the hosts as it found them (the injection sits on every sim host).
  afterEach(async () => {
    await db.update(hosts).set({ state: "active", config: {} }).where(eq(hosts.kind, "sim"));
  });

  it("an injected failure fails the order naming the step; retry resumes from that step and builds nothing twice", async () => {
    await injectFailures(db, { glue: 1 });
    const created = await order(db, autoCustomer);
    const failed = await waitForOrder(db, created.id);
    expect(failed.status).toBe("failed");
    expect(failed.reason).toMatch(/^Step "Glue \(hostname, users, keys\)" failed: sim-\d: injected failure in step glue/);
    const glue = failed.steps.find((s) => s.name === "glue")!;
    expect(glue).toMatchObject({ status: "failed", attempt: 1 });
    expect(glue.log.at(-1)!.line).toMatch(/^error: /);
    const position = failed.steps.findIndex((s) => s.name === "glue");
    expect(failed.steps.slice(0, position).every((s) => s.status === "succeeded")).toBe(true);
    expect(failed.steps.slice(position + 1).every((s) => s.status === "pending" && s.attempt === 0)).toBe(true);

    const retried = await retryOrder(db, autoCustomer, created.id);
    expect(["queued", "provisioning", "ready"]).toContain(retried.status);
    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.run).toMatchObject({ status: "succeeded", attempt: 2 });
    for (const step of view.steps) {
      expect(step.status, step.name).toBe("succeeded");
      expect(step.attempt, step.name).toBe(step.name === "glue" ? 2 : 1);
    }
    // Evidence of the failed attempt stays in the log.
    const glueLog = view.steps.find((s) => s.name === "glue")!.log;
    expect(glueLog.some((l) => l.attempt === 1 && l.line.startsWith("error: "))).toBe(true);
    expect(glueLog.some((l) => l.attempt === 2)).toBe(true);

    // Nothing on the host was built twice.
    const host = view.environment!.host;
    const objects = await db.select().from(simObjects);
    const mine = objects.filter((o) => o.name === view.environment!.hostname);
    expect(mine.length).toBeGreaterThan(0);
    expect(objects.filter((o) => o.createdCount > 1)).toEqual([]);
    expect(mine.find((o) => o.kind === "guest")).toMatchObject({ state: "running" });
    expect(host).toMatch(/^sim-/);
  });

  it("with every host drained, the order fails at placement saying so; undrained, retry delivers it", async () => {
    await db.update(hosts).set({ state: "draining" }).where(eq(hosts.kind, "sim"));
    const created = await order(db, autoCustomer);
    const failed = await waitForOrder(db, created.id);
    expect(failed.status).toBe("failed");
    expect(failed.reason).toBe('Step "Choose host" failed: No active host of kind sim or xen: ask an admin to register or undrain one');
    expect(failed.environment).toBeUndefined();
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.kind, "sim"));
    await retryOrder(db, autoCustomer, created.id);
    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    expect(view.steps.find((s) => s.name === "place")).toMatchObject({ status: "succeeded", attempt: 2 });
    expect(view.environment!.placement).toMatch(/^sim-[12]: most free memory/);
  });

  it("retrying an order that did not fail is refused", async () => {
    const created = await order(db, autoCustomer);
    expect((await waitForOrder(db, created.id)).status).toBe("ready");
    await expect(retryOrder(db, autoCustomer, created.id)).rejects.toMatchObject({ status: 409 });
    expect((await orderStatus(db, created.id)).status).toBe("ready");
  });
});

describe("cancel during delivery", () => {
  afterAll(async () => {
    await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
  });

  it("stops at the next step and tears down what was built: addresses freed, environment deleted", async () => {
    await db.update(hosts).set({ config: { stepMs: 150 } }).where(eq(hosts.kind, "sim"));
    const created = await order(db, autoCustomer);
    await waitFor(() => provisionSteps(db, created.id), (steps) => steps.some((s) => s.name === "unpack" && s.status === "running"), { what: "unpack to run" });
    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, created.id))).toHaveLength(2);

    const cancelled = await cancelOrder(db, autoCustomer, created.id);
    expect(cancelled.status).toBe("cancelled");
    const view = await waitFor(() => orderView(db, created.id), (v) => v.teardown?.status === "succeeded" || v.teardown?.status === "failed", { what: "the teardown to end" });
    expect(view.status).toBe("cancelled");
    expect(view.reason).toBe(`cancelled by ${autoCustomer.email}`);
    expect(view.run?.status).toBe("cancelled");
    expect(view.teardown!.status).toBe("succeeded");
    expect(view.teardown!.steps.map((s) => [s.name, s.status])).toEqual([["halt", "succeeded"], ["destroy", "succeeded"], ["release", "succeeded"]]);
    // Steps after the cancel never ran.
    expect(view.steps.find((s) => s.name === "boot")).toMatchObject({ status: "pending", attempt: 0 });
    expect(view.steps.find((s) => s.name === "handover")).toMatchObject({ status: "pending", attempt: 0 });

    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, created.id))).toEqual([]);
    const [env] = await db.select().from(environments).where(eq(environments.orderId, created.id));
    expect(env.state).toBe("deleted");
    const volume = await db.select().from(simObjects).where(and(eq(simObjects.name, env.hostname), eq(simObjects.kind, "volume")));
    expect(volume.map((v) => v.state)).toEqual(["deleted"]);
    // Nothing built for it is left on the host, and the guest that never booted was never recorded.
    const left = await db.select().from(simObjects).where(inArray(simObjects.name, [env.hostname, `${env.hostname}.tar`]));
    expect(left.filter((o) => o.state !== "deleted").map((o) => `${o.kind}:${o.state}`)).toEqual([]);
    expect(left.some((o) => o.kind === "guest")).toBe(false);
    const halt = view.teardown!.steps.find((s) => s.name === "halt")!;
    expect(halt.log.map((l) => l.line)).toContain(`guest ${env.hostname} is not running on ${view.environment!.host}; nothing to stop`);
  });
});

describe("step records", () => {
  it("every step of a delivered order has start, end and log rows for its attempt", async () => {
    const created = await order(db, admin);
    await waitForOrder(db, created.id, ["ready"]);
    const steps = await provisionSteps(db, created.id);
    expect(steps).toHaveLength(stepDefinitions.length);
    const logs = await db.select().from(stepLogs).where(inArray(stepLogs.stepId, steps.map((s) => s.id)));
    for (const s of steps) {
      expect(s.finishedAt!.getTime()).toBeGreaterThanOrEqual(s.startedAt!.getTime());
      expect(logs.filter((l) => l.stepId === s.id && l.attempt === 1).length, s.name).toBeGreaterThan(0);
    }
    const rows = await db.select().from(pipelineSteps).where(eq(pipelineSteps.runId, steps[0].runId));
    expect(rows.every((r) => r.status === "succeeded")).toBe(true);
  });
});
