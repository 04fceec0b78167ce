/**
 * Snapshots and resize of delivered environments through the API, on the sim driver: take,
 * list, revert and delete; who may; 4xx for bad input and 409 while another action runs
 * (naming it) or in a state that does not allow it; resize under quota and policy; every
 * request audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import * as snapshotsRoute from "@/app/api/v1/environments/[id]/snapshots/route";
import * as snapshotRoute from "@/app/api/v1/environments/[id]/snapshots/[sid]/route";
import * as revertRoute from "@/app/api/v1/environments/[id]/snapshots/[sid]/revert/route";
import * as resizeRoute from "@/app/api/v1/environments/[id]/resize/route";
import * as decisionRoute from "@/app/api/v1/environments/[id]/resize/[aid]/decision/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import * as reinstallRoute from "@/app/api/v1/environments/[id]/reinstall/route";
import { auditEvents, environmentActions, environments, groups, hosts, orders, pipelineRuns, simObjects } from "@/lib/db/schema";
import { setLimits } from "@/lib/policy/quota";
import { noLimits } from "@/lib/policy/quota-math";
import { destroyEnvironment, orderView } from "@/lib/orders/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder, type Actor, waitForAction } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
let owner: Actor;
let group: Awaited<ReturnType<typeof makeGroup>>;
let token: { owner: string; other: string; admin: string; approver: string };

beforeAll(async () => {
  group = await makeGroup(db, { autoApprove: true });
  owner = await makeUser(db, "customer", group.slug);
  token = {
    owner: await tokenFor(db, owner),
    other: await tokenFor(db, await makeUser(db, "customer", group.slug)),
    admin: await tokenFor(db, admin),
    approver: await tokenFor(db, await makeUser(db, "approver", group.slug)),
  };
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

const path = (id: string) => `/api/v1/environments/${id}/snapshots`;
const take = (id: string, t: string, body: unknown) => invoke(snapshotsRoute.POST, "POST", path(id), { token: t, params: { id }, body });
const list = (id: string, t: string) => invoke(snapshotsRoute.GET, "GET", path(id), { token: t, params: { id } });
const revert = (id: string, sid: string, t: string) => invoke(revertRoute.POST, "POST", `${path(id)}/${sid}/revert`, { token: t, params: { id, sid } });
const remove = (id: string, sid: string, t: string) => invoke(snapshotRoute.DELETE, "DELETE", `${path(id)}/${sid}`, { token: t, params: { id, sid } });
const resize = (id: string, t: string, body: unknown) => invoke(resizeRoute.POST, "POST", `/api/v1/environments/${id}/resize`, { token: t, params: { id }, body });

const actionDone = (id: string) => waitForAction(db, id);

async function delivered() {
  const created = await order(db, owner);
  const view = await waitForOrder(db, created.id);
  expect(view.status).toBe("ready");
  return { orderId: created.id, envId: view.environment!.id, hostname: view.environment!.hostname };
}

describe("snapshots", () => {
  it("the owner takes, lists, reverts to and deletes a snapshot; each request is audited and shows on the order", async () => {
    const { orderId, envId, hostname } = await delivered();
    const taken = await take(envId, token.owner, { name: "before upgrade" });
    expect(taken.status).toBe(202);
    expect(taken.body).toMatchObject({ action: "snapshot", status: "queued", environmentId: envId });
    expect((await actionDone(taken.body.id)).status).toBe("succeeded");
    const listed = await list(envId, token.owner);
    expect(listed.status).toBe(200);
    expect(listed.body.snapshots).toEqual([expect.objectContaining({ id: taken.body.snapshotId, name: "before upgrade", status: "ready", withMemory: true })]);
    // The approver of the group sees the list too, a stranger does not.
    expect((await list(envId, token.approver)).status).toBe(200);
    expect((await list(envId, token.other)).status).toBe(404);

    const dup = await take(envId, token.owner, { name: "before upgrade" });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('A snapshot named "before upgrade" exists already');

    // Stopped, then reverted: the snapshot held the running guest's memory, so it runs again.
    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token: token.owner, params: { id: envId } });
    expect((await actionDone(stop.body.id)).status).toBe("succeeded");
    const back = await revert(envId, taken.body.snapshotId, token.owner);
    expect(back.status).toBe(202);
    expect((await actionDone(back.body.id)).status).toBe("succeeded");
    const [env] = await db.select().from(environments).where(eq(environments.id, envId));
    expect(env.state).toBe("running");
    const view = await orderView(db, orderId);
    expect(view.environment!.snapshots.map((s) => s.name)).toEqual(["before upgrade"]);
    expect(view.environment!.day2[0]).toMatchObject({ action: "revert", status: "succeeded", snapshot: "before upgrade" });

    const gone = await remove(envId, taken.body.snapshotId, token.admin);
    expect(gone.status).toBe(202);
    expect((await actionDone(gone.body.id)).status).toBe("succeeded");
    expect((await list(envId, token.owner)).body.snapshots).toEqual([]);
    const onHost = await db.select().from(simObjects).where(and(eq(simObjects.kind, "snapshot"), eq(simObjects.name, `${hostname}@portal-${taken.body.snapshotId.replace(/-/g, "").slice(0, 16)}`)));
    expect(onHost.map((o) => o.state)).toEqual(["deleted"]);

    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, envId));
    expect(audit.map((a) => a.action).sort()).toEqual(["environment.delete_snapshot", "environment.revert", "environment.snapshot", "environment.stop"]);
  });

  it("a destroyed environment lists no snapshots: they went with its disk", async () => {
    const { orderId, envId } = await delivered();
    const taken = await take(envId, token.owner, { name: "kept" });
    expect((await actionDone(taken.body.id)).status).toBe("succeeded");
    await destroyEnvironment(db, owner, orderId);
    expect((await waitForOrder(db, orderId, ["retired", "failed"])).status).toBe("retired");
    const listed = await list(envId, token.owner);
    expect(listed.status).toBe(200);
    expect(listed.body.snapshots).toEqual([]);
  });

  it("refuses bad input with 4xx and changes nothing; an approver may look but not act", async () => {
    const { envId } = await delivered();
    for (const body of [{}, { name: "" }, { name: "x".repeat(65) }, { name: "rm -rf /; echo" }, { name: "ok", extra: 1 }]) {
      expect((await take(envId, token.owner, body)).status).toBe(422);
    }
    const approver = await take(envId, token.approver, { name: "mine" });
    expect(approver.status).toBe(403);
    expect((await take(envId, token.other, { name: "mine" })).status).toBe(404);
    expect((await revert(envId, "00000000-0000-4000-8000-000000000000", token.owner)).status).toBe(404);
    expect((await revert(envId, "not-a-uuid", token.owner)).status).toBe(404);
    expect((await remove(envId, "not-a-uuid", token.owner)).status).toBe(404);
    expect(await db.select().from(environmentActions).where(eq(environmentActions.environmentId, envId))).toEqual([]);
  });

  it("one action at a time: a second request while a snapshot is queued gets 409 naming it", async () => {
    const { envId } = await delivered();
    await worker!.stop();
    worker = null;
    try {
      const first = await take(envId, token.owner, { name: "one" });
      expect(first.status).toBe(202);
      const second = await take(envId, token.owner, { name: "two" });
      expect(second.status).toBe(409);
      expect(second.body.error).toBe("A snapshot of this environment is already queued; wait until it is done");
      const sized = await resize(envId, token.owner, { flavor: "medium" });
      expect(sized.status).toBe(409);
      expect(sized.body.error).toBe("A snapshot of this environment is already queued; wait until it is done");
      // The snapshot being made cannot be reverted to yet.
      const early = await revert(envId, first.body.snapshotId, token.admin);
      expect(early.status).toBe(409);
    } finally {
      worker = await startWorkers();
    }
  });

  it("an environment that is neither running nor stopped answers 409 saying what it is doing", async () => {
    const { envId } = await delivered();
    await db.update(environments).set({ state: "migrating" }).where(eq(environments.id, envId));
    try {
      const refused = await take(envId, token.owner, { name: "x" });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe("The environment is migrating; wait until it is running or stopped");
      expect((await resize(envId, token.owner, { flavor: "medium" })).body.error).toBe("The environment is migrating; wait until it is running or stopped");
    } finally {
      await db.update(environments).set({ state: "running" }).where(eq(environments.id, envId));
    }
  });
});

describe("resize", () => {
  it("the owner resizes to a bigger size; the order and the environment carry it, and it is audited", async () => {
    const { orderId, envId } = await delivered();
    const sized = await resize(envId, token.owner, { flavor: "medium" });
    expect(sized.status).toBe(202);
    expect(sized.body).toMatchObject({ action: "resize", status: "queued" });
    const done = await actionDone(sized.body.id);
    expect(done.status).toBe("succeeded");
    expect(done.result).toMatchObject({ from: { vcpus: 1, memoryMb: 1024 }, to: { flavor: "medium", vcpus: 2, memoryMb: 4096, diskGb: 20 } });
    const [env] = await db.select().from(environments).where(eq(environments.id, envId));
    expect(env).toMatchObject({ vcpus: 2, memoryMb: 4096, diskGb: 20, state: "running" });
    expect((await orderView(db, orderId)).flavor.slug).toBe("medium");
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.resize")));
    expect(audit.data).toMatchObject({ from: "small", to: "medium" });

    // Back down to a smaller disk: refused, the disk only grows.
    const shrink = await resize(envId, token.owner, { flavor: "small" });
    expect(shrink.status).toBe(422);
    expect(shrink.body.error).toBe("The disk only grows: Small has 10 GB, the environment has 20 GB");
    const same = await resize(envId, token.owner, { flavor: "medium" });
    expect(same.status).toBe(409);
    expect((await resize(envId, token.owner, { flavor: "no-such-size" })).status).toBe(422);
    expect((await resize(envId, token.owner, {})).status).toBe(422);
  });

  it("quota and policy apply: over quota 409 with the numbers; a size held for approval waits for an approver, an admin's is not held", async () => {
    const { envId, orderId } = await delivered();
    await setLimits(db, { groupId: group.id }, { ...noLimits, vcpus: 1 });
    try {
      const over = await resize(envId, token.owner, { flavor: "medium" });
      expect(over.status).toBe(409);
      expect(over.body.error).toMatch(/^Over quota: .*vCPU/);
    } finally {
      await setLimits(db, { groupId: group.id }, noLimits);
    }
    await db.update(groups).set({ autoApprove: false }).where(eq(groups.id, group.id));
    try {
      const held = await resize(envId, token.owner, { flavor: "large" });
      expect(held.status).toBe(202);
      expect(held.body).toMatchObject({ action: "resize", status: "held" });
      const [row] = await db.select().from(environmentActions).where(eq(environmentActions.id, held.body.id));
      expect(row.note).toMatch(/^Size Large needs approval: held for approval: group .* requires an approver/);
      // Nothing runs while it waits; a second resize is refused, a snapshot is not.
      expect((await resize(envId, token.owner, { flavor: "medium" })).body.error).toBe("A resize of this environment is waiting for approval; wait for the decision");
      const snap = await take(envId, token.owner, { name: "while waiting" });
      expect(snap.status).toBe(202);
      expect((await actionDone(snap.body.id)).status).toBe("succeeded");
      expect((await orderView(db, orderId)).environment!.day2.find((a) => a.action === "resize")).toMatchObject({ status: "held", flavor: "Large" });

      const decision = (t: string, body: unknown, aid = held.body.id) =>
        invoke(decisionRoute.POST, "POST", `/api/v1/environments/${envId}/resize/${aid}/decision`, { token: t, params: { id: envId, aid }, body });
      expect((await decision(token.owner, { approve: true })).status).toBe(403);
      expect((await decision(token.other, { approve: true })).status).toBe(404);
      expect((await decision(token.approver, { approve: "yes" })).status).toBe(422);
      expect((await decision(token.approver, { approve: true }, "00000000-0000-4000-8000-000000000000")).status).toBe(404);
      const [requested] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.resize")));
      expect(requested.data).toMatchObject({ from: "small", to: "large", held: expect.stringContaining("needs approval") });

      const approved = await decision(token.approver, { approve: true });
      expect(approved.status).toBe(200);
      expect(approved.body.status).toBe("queued");
      expect((await actionDone(held.body.id)).status).toBe("succeeded");
      expect((await orderView(db, orderId)).flavor.slug).toBe("large");
      expect((await decision(token.approver, { approve: false })).status).toBe(409);
      const [approval] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.resize_approve")));
      expect(approval.data).toMatchObject({ action: held.body.id });
    } finally {
      await db.update(groups).set({ autoApprove: true }).where(eq(groups.id, group.id));
    }
  });

  it("an approver rejects a held resize with a reason the owner reads; an admin's resize is not held", async () => {
    const { envId, orderId } = await delivered();
    await db.update(groups).set({ autoApprove: false }).where(eq(groups.id, group.id));
    try {
      const held = await resize(envId, token.owner, { flavor: "medium" });
      expect(held.body.status).toBe("held");
      const rejected = await invoke(decisionRoute.POST, "POST", `/api/v1/environments/${envId}/resize/${held.body.id}/decision`, {
        token: token.approver, params: { id: envId, aid: held.body.id }, body: { approve: false, reason: "use a second small one" },
      });
      expect(rejected.status).toBe(200);
      expect(rejected.body.status).toBe("failed");
      const seen = (await orderView(db, orderId)).environment!.day2[0];
      expect(seen).toMatchObject({ action: "resize", status: "failed" });
      expect(seen.error).toMatch(/^Rejected by .*: use a second small one$/);
      expect((await orderView(db, orderId)).flavor.slug).toBe("small");

      const byAdmin = await resize(envId, token.admin, { flavor: "medium" });
      expect(byAdmin.status).toBe(202);
      expect(byAdmin.body.status).toBe("queued");
      expect((await actionDone(byAdmin.body.id)).status).toBe("succeeded");
    } finally {
      await db.update(groups).set({ autoApprove: true }).where(eq(groups.id, group.id));
    }
  });
});

describe("reinstall", () => {
  const reinstall = (id: string, t: string, body?: unknown) => invoke(reinstallRoute.POST, "POST", `/api/v1/environments/${id}/reinstall`, { token: t, params: { id }, body });
  const volumeOf = async (envId: string, hostname: string) => {
    const [env] = await db.select({ hostId: environments.hostId }).from(environments).where(eq(environments.id, envId));
    const [volume] = await db.select().from(simObjects).where(and(eq(simObjects.hostId, env.hostId), eq(simObjects.kind, "volume"), eq(simObjects.name, hostname)));
    return volume;
  };

  it("rebuilds from the image through the pipeline, keeping name, addresses and MACs; its snapshots go with the disk", async () => {
    const { orderId, envId, hostname } = await delivered();
    const before = await allocationsOf(db, orderId);
    const taken = await take(envId, token.owner, { name: "old" });
    expect((await actionDone(taken.body.id)).status).toBe("succeeded");

    expect((await reinstall(envId, token.approver)).status).toBe(403);
    expect((await reinstall(envId, token.other)).status).toBe(404);
    const res = await reinstall(envId, token.owner);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId, environmentId: envId, status: "queued" });
    // While it rebuilds, nothing else: a second reinstall or a snapshot is refused.
    const again = await reinstall(envId, token.owner);
    expect(again.status).toBe(409);
    expect((await take(envId, token.owner, { name: "during" })).status).toBe(409);

    const view = await waitForOrder(db, orderId, ["ready", "failed"]);
    expect(view.status).toBe("ready");
    expect(view.environment!.hostname).toBe(hostname);
    expect(view.environment!.state).toBe("running");
    expect(await allocationsOf(db, orderId)).toEqual(before);
    // The rebuild ran the teardown's stop and remove first, then the whole deploy pipeline.
    expect(view.steps.map((s) => s.name).slice(0, 3)).toEqual(["halt", "destroy", "place"]);
    expect(view.steps.every((s) => s.status === "succeeded")).toBe(true);
    expect((await list(envId, token.owner)).body.snapshots).toEqual([]);
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.reinstall")));
    expect(audit.data).toMatchObject({ order: orderId, run: res.body.runId });
  });

  it("keeps the data volume when asked (keepData, on the run and in the audit); refuses a bad keepData and changes nothing", async () => {
    const { orderId, envId, hostname } = await delivered();
    for (const body of [{ keepData: "yes" }, { keepData: true, wipe: false }]) {
      const bad = await reinstall(envId, token.owner, body);
      expect(bad.status).toBe(422);
    }
    expect((await reinstall(envId, token.owner, { keepData: 1 })).body.fields.keepData).toBeDefined();
    const [still] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
    expect(still.status).toBe("ready");
    expect(await db.select().from(pipelineRuns).where(and(eq(pipelineRuns.orderId, orderId), eq(pipelineRuns.keepData, true)))).toEqual([]);

    const kept = await reinstall(envId, token.owner, { keepData: true });
    expect(kept.status).toBe(202);
    expect((await waitForOrder(db, orderId, ["ready", "failed"])).status).toBe("ready");
    const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, kept.body.runId));
    expect(run.keepData).toBe(true);
    // The simulated volume was set aside and taken back, never made again.
    expect(await volumeOf(envId, hostname)).toMatchObject({ state: "created", createdCount: 1 });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.reinstall")));
    expect(audit.data).toMatchObject({ run: kept.body.runId, keepData: true });

    // Without keepData the volume is removed and made again.
    expect((await reinstall(envId, token.owner, {})).status).toBe(202);
    expect((await waitForOrder(db, orderId, ["ready", "failed"])).status).toBe("ready");
    expect(await volumeOf(envId, hostname)).toMatchObject({ state: "created", createdCount: 2 });
  });

  it("waits for a queued action: 409 naming it", async () => {
    const { envId } = await delivered();
    await worker!.stop();
    worker = null;
    try {
      expect((await take(envId, token.owner, { name: "first" })).status).toBe(202);
      const refused = await reinstall(envId, token.owner);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe("A snapshot of this environment is already queued; wait until it is done");
    } finally {
      worker = await startWorkers();
    }
  });
});
