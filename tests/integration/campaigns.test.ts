/**
 * Image versions and patch campaigns through the API, on sim hosts: versions and "outdated";
 * who may run a campaign (customers 403, approvers only for their groups); bad input refused
 * with the field and nothing created; owners told ahead and postponing once within the limits;
 * pause and resume; a campaign that goes on after its worker restarts; a failure beyond the
 * threshold stopping the campaign by itself with the rest untouched, and the rollback from the
 * backups.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as campaignsRoute from "@/app/api/v1/campaigns/route";
import * as campaignRoute from "@/app/api/v1/campaigns/[id]/route";
import * as pauseRoute from "@/app/api/v1/campaigns/[id]/pause/route";
import * as resumeRoute from "@/app/api/v1/campaigns/[id]/resume/route";
import * as rollbackRoute from "@/app/api/v1/campaigns/[id]/rollback/route";
import * as postponeRoute from "@/app/api/v1/campaigns/[id]/postpone/route";
import * as versionsRoute from "@/app/api/v1/images/[id]/versions/route";
import * as currentRoute from "@/app/api/v1/images/[id]/versions/[n]/current/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import { auditEvents, campaigns, campaignTargets, environments, hosts, images, notifications, orders, pipelineSteps } from "@/lib/db/schema";
import { releaseFailedOrders } from "@/lib/orders/failed-hold";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let adminToken: string;
let imageId: string;
const tokens: Record<string, string> = {};
const users: Record<string, Actor> = {};
const groups: Record<string, { id: string; slug: string }> = {};
/** name -> { orderId, environmentId } */
const envs: Record<string, { orderId: string; environmentId: string }> = {};

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

type Body = Record<string, unknown>;
const post = (route: { POST: Parameters<typeof invoke>[0] }, path: string, token: string, params: Record<string, string> = {}, body?: unknown) =>
  invoke(route.POST, "POST", path, { token, params, body });

function campaignBody(over: Body = {}): Body {
  return {
    image: "linux-test",
    targets: { group: groups.a!.slug },
    window: { start: ago(1000), end: inAnHour() },
    waveSize: 1,
    failureThreshold: { count: 0 },
    ...over,
  };
}

async function view(id: string) {
  const res = await invoke(campaignRoute.GET, "GET", `/api/v1/campaigns/${id}`, { token: adminToken, params: { id } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as {
    id: string; status: string; reason: string | null; wave: number; canRollback: boolean; final: boolean;
    waves: { number: number; environments: number; done: number; failed: number; durationMs: number | null }[];
    targets: { environmentId: string; name: string; status: string; wave: number | null; plannedWave: number | null; error: string | null; fromVersion: number | null; imageVersion: number | null; postponedUntil: string | null; timings: Record<string, number | null> }[];
  };
}

async function waitCampaign(id: string, done: (v: Awaited<ReturnType<typeof view>>) => boolean, what: string, timeoutMs = 60_000) {
  return waitFor(() => view(id), done, { timeoutMs, intervalMs: 200, what });
}

async function environmentOf(name: string) {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${envs[name]!.orderId}`, { token: adminToken, params: { id: envs[name]!.orderId } });
  return res.body as { status: string; environment: { imageVersion: number | null; outdated: boolean; addresses: { ip: string; mac: string }[] } };
}

async function countCampaigns() {
  return (await db.select({ id: campaigns.id }).from(campaigns)).length;
}

beforeAll(async () => {
  worker = await startWorkers();
  adminToken = await tokenFor(db, admin);
  for (const g of ["a", "b", "c"]) groups[g] = await makeGroup(db, { autoApprove: true });
  for (const [name, role, group] of [
    ["approverA", "approver", "a"], ["approverB", "approver", "b"], ["ownerA", "customer", "a"], ["ownerA2", "customer", "a"], ["ownerB", "customer", "b"], ["ownerC", "customer", "c"],
  ] as const) {
    users[name] = await makeUser(db, role, groups[group]!.slug);
    tokens[name] = await tokenFor(db, users[name]!);
  }
  // Delivered environments on version 1 of linux-test, before version 2 exists.
  const wanted: [string, string, number?][] = [["a1", "ownerA"], ["a2", "ownerA2"], ["a3", "ownerA"], ["a4", "ownerA", 2], ["b1", "ownerB"], ["b2", "ownerB"], ["c1", "ownerC"]];
  const placed = await Promise.all(wanted.map(([name, owner, leaseDays]) => order(db, users[owner]!, { name: unique(`cp-${name}`), ...(leaseDays ? { leaseDays } : {}) })));
  for (const [i, [name]] of wanted.entries()) {
    const v = await waitForOrder(db, placed[i]!.id, ["ready", "failed"]);
    expect(v.status).toBe("ready");
    envs[name] = { orderId: placed[i]!.id, environmentId: v.environment!.id };
  }
  [{ id: imageId }] = await db.select({ id: images.id }).from(images).where(eq(images.slug, "linux-test"));
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe("image versions", () => {
  it("an environment built from an older version than the image's current one is outdated, in the order and in the list", async () => {
    const before = await invoke(versionsRoute.GET, "GET", `/api/v1/images/${imageId}/versions`, { token: tokens.ownerA, params: { id: imageId } });
    expect(before.status).toBe(200);
    expect(before.body.versions.map((v: { number: number; current: boolean }) => [v.number, v.current])).toEqual([[1, true]]);
    expect(await environmentOf("a1")).toMatchObject({ environment: { imageVersion: 1, outdated: false } });

    const refused = await post(versionsRoute, `/api/v1/images/${imageId}/versions`, tokens.approverA!, { id: imageId }, { changelog: "kernel 6.1.0-58, openssl fix" });
    expect(refused.status).toBe(403);
    const added = await post(versionsRoute, `/api/v1/images/${imageId}/versions`, adminToken, { id: imageId }, { changelog: "kernel 6.1.0-58, openssl fix" });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ number: 2, current: true, changelog: "kernel 6.1.0-58, openssl fix" });

    expect(await environmentOf("a1")).toMatchObject({ environment: { imageVersion: 1, outdated: true } });
    const list = await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: tokens.ownerA });
    const mine = (list.body.orders as { id: string; outdated: boolean; imageVersion: number }[]).find((o) => o.id === envs.a1!.orderId);
    expect(mine).toMatchObject({ outdated: true, imageVersion: 1 });

    // An admin sets the image back to version 1 (and forward again): outdated follows.
    const back = await post(currentRoute, `/api/v1/images/${imageId}/versions/1/current`, adminToken, { id: imageId, n: "1" });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(await environmentOf("a1")).toMatchObject({ environment: { outdated: false } });
    expect((await post(currentRoute, `/api/v1/images/${imageId}/versions/9/current`, adminToken, { id: imageId, n: "9" })).status).toBe(404);
    expect((await post(currentRoute, `/api/v1/images/${imageId}/versions/2/current`, tokens.approverA!, { id: imageId, n: "2" })).status).toBe(403);
    expect((await post(currentRoute, `/api/v1/images/${imageId}/versions/2/current`, adminToken, { id: imageId, n: "2" })).status).toBe(200);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "image.version.current"), eq(auditEvents.targetId, imageId)));
    expect(audit.map((a) => a.after)).toEqual([{ version: 1 }, { version: 2 }]);
  });
});

describe("who may run a campaign, and what it accepts", () => {
  it("customers get 403; an approver runs one only for a group they approve for", async () => {
    const before = await countCampaigns();
    expect((await post(campaignsRoute, "/api/v1/campaigns", tokens.ownerA!, {}, campaignBody())).status).toBe(403);
    expect((await invoke(campaignsRoute.GET, "GET", "/api/v1/campaigns", { token: tokens.ownerA })).status).toBe(403);
    const other = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverB!, {}, campaignBody());
    expect(other.status, JSON.stringify(other.body)).toBe(403);
    const listed = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverB!, {}, campaignBody({ targets: { environments: [envs.a1!.environmentId] } }));
    expect(listed.status).toBe(403);
    const outdated = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverB!, {}, campaignBody({ targets: { outdated: true } }));
    expect(outdated.status).toBe(422);
    expect(outdated.body.fields["targets.group"]).toBeDefined();
    expect(await countCampaigns()).toBe(before);

    // Approver A, for group C's environment that nobody else holds: a scheduled campaign of one.
    const own = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverA!, {}, campaignBody({ targets: { group: groups.a!.slug }, window: { start: inAnHour(), end: new Date(Date.now() + 7200_000).toISOString() } }));
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body).toMatchObject({ status: "scheduled", group: expect.stringContaining(groups.a!.slug) });
    const seenByB = await invoke(campaignRoute.GET, "GET", `/api/v1/campaigns/${own.body.id}`, { token: tokens.approverB, params: { id: own.body.id } });
    expect(seenByB.status).toBe(404);
    const listB = await invoke(campaignsRoute.GET, "GET", "/api/v1/campaigns", { token: tokens.approverB });
    expect(listB.status).toBe(200);
    expect(listB.body.campaigns.map((c: { id: string }) => c.id)).not.toContain(own.body.id);
    const listA = await invoke(campaignsRoute.GET, "GET", "/api/v1/campaigns", { token: tokens.approverA });
    expect(listA.body.campaigns.map((c: { id: string }) => c.id)).toContain(own.body.id);
    // B may not pause it either; A may, and drop it for the tests below by pausing it for good.
    expect((await post(pauseRoute, "/", tokens.approverB!, { id: own.body.id })).status).toBe(404);
    expect((await post(pauseRoute, "/", tokens.approverA!, { id: own.body.id })).status).toBe(200);
    await db.update(campaigns).set({ status: "stopped", nextTickAt: null }).where(eq(campaigns.id, own.body.id));
  });

  it("refuses bad input with the field and creates nothing", async () => {
    const before = await countCampaigns();
    const cases: [Body, string][] = [
      [campaignBody({ waveSize: 0 }), "waveSize"],
      [campaignBody({ waveSize: 2.5 }), "waveSize"],
      [campaignBody({ window: { start: inAnHour(), end: ago(0) } }), "window.end"],
      [campaignBody({ window: { start: ago(7200_000), end: ago(3600_000) } }), "window.end"],
      [campaignBody({ window: { start: "tomorrow", end: inAnHour() } }), "window.start"],
      [campaignBody({ failureThreshold: { count: -1 } }), "failureThreshold"],
      [campaignBody({ failureThreshold: { percent: 120 } }), "failureThreshold"],
      [campaignBody({ targets: {} }), "targets"],
      [campaignBody({ targets: { group: groups.a!.slug, environments: [envs.a1!.environmentId] } }), "targets"],
      [campaignBody({ image: "no-such-image" }), "image"],
      [campaignBody({ version: 7 }), "version"],
      [campaignBody({ targets: { group: "no-such-group" } }), "targets.group"],
      [campaignBody({ name: "patch\u0000night" }), "name"],
      [campaignBody({ surprise: true }), "surprise"],
      [campaignBody({ targets: { environments: [envs.c1!.environmentId, envs.c1!.environmentId] } }), "targets.environments"],
    ];
    for (const [body, field] of cases) {
      const res = await post(campaignsRoute, "/api/v1/campaigns", adminToken, {}, body);
      expect([400, 422], `${field}: ${JSON.stringify(res.body)}`).toContain(res.status);
      expect(Object.keys(res.body.fields ?? {}).some((k) => k === field || k.startsWith(`${field}.`)), `${field}: ${JSON.stringify(res.body)}`).toBe(true);
    }
    expect(await countCampaigns()).toBe(before);
  });
});

describe("a campaign in waves", () => {
  it("tells the owners ahead; an owner postpones once, within the limit and the lease", async () => {
    const name = unique("openssl night");
    const created = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverA!, {}, campaignBody({
      name,
      targets: { environments: [envs.a3!.environmentId, envs.a4!.environmentId] },
      window: { start: inAnHour(), end: new Date(Date.now() + 30 * 86400_000).toISOString() },
      postponeMaxDays: 3,
    }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const told = (await db.select().from(notifications).where(and(eq(notifications.userId, users.ownerA!.id), eq(notifications.kind, "campaign.scheduled"))))
      .filter((n) => n.body.includes(name));
    expect(told.map((n) => n.link).sort()).toEqual([`/orders/${envs.a3!.orderId}`, `/orders/${envs.a4!.orderId}`].sort());
    expect(told[0]!.body).toMatch(/postpone it once, by up to 3 days/);

    const postpone = (token: string, body: Body) => post(postponeRoute, `/api/v1/campaigns/${id}/postpone`, token, { id }, body);
    expect((await postpone(tokens.ownerA2!, { environment: envs.a3!.environmentId, days: 1 })).status).toBe(404);
    const tooLong = await postpone(tokens.ownerA!, { environment: envs.a3!.environmentId, days: 4 });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.fields.days).toBeDefined();
    // a4's lease ends in 2 days, an hour after the window opens: 3 days would pass it.
    const pastLease = await postpone(tokens.ownerA!, { environment: envs.a4!.environmentId, days: 3 });
    expect(pastLease.status).toBe(422);
    expect(pastLease.body.error).toMatch(/after its lease ends/);
    const ok = await postpone(tokens.ownerA!, { environment: envs.a3!.environmentId, days: 2 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ status: "postponed", outOfWindow: false });
    expect((await postpone(tokens.ownerA!, { environment: envs.a3!.environmentId, days: 1 })).status).toBe(409);
    const v = await view(id);
    expect(v.targets.find((t) => t.environmentId === envs.a3!.environmentId)).toMatchObject({ status: "postponed", plannedWave: null });
    expect(v.targets.find((t) => t.environmentId === envs.a4!.environmentId)).toMatchObject({ status: "pending", plannedWave: 1 });
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "campaign.postpone"), eq(auditEvents.targetId, envs.a3!.environmentId)));
    expect(audit).toHaveLength(1);
    await db.update(campaigns).set({ status: "stopped", nextTickAt: null }).where(eq(campaigns.id, id));
  });

  it("pauses after the running wave, resumes, and goes on after its worker restarts", async () => {
    // Slow sim steps, so the campaign can be watched between waves.
    await db.update(hosts).set({ config: { stepMs: 120 } }).where(eq(hosts.kind, "sim"));
    const created = await post(campaignsRoute, "/api/v1/campaigns", adminToken, {}, campaignBody({ targets: { environments: [envs.a1!.environmentId, envs.a2!.environmentId] } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await waitCampaign(id, (v) => v.targets[0]!.status === "reinstalling" || v.targets[0]!.status === "checking", "the first wave to reinstall");
    const paused = await post(pauseRoute, "/", adminToken, { id });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe("paused");
    // The first wave finishes; the campaign then waits with nothing due, the second untouched.
    await waitFor(async () => (await db.select().from(campaigns).where(eq(campaigns.id, id)))[0]!, (c) => c.nextTickAt === null, { timeoutMs: 30_000, what: "the paused campaign to rest" });
    let v = await view(id);
    expect(v.targets.map((t) => [t.status, t.wave])).toEqual([["done", 1], ["pending", null]]);
    expect((await post(pauseRoute, "/", adminToken, { id })).status).toBe(200);

    expect((await post(resumeRoute, "/", adminToken, { id })).body.status).toBe("running");
    await waitCampaign(id, (x) => x.targets[1]!.status === "backing_up" || x.targets[1]!.status === "reinstalling", "the second wave to start");
    // The worker stops (SIGTERM's path) in the middle of the second wave; a new one goes on.
    await worker.stop();
    const stoppedAt = await view(id);
    expect(stoppedAt.status).toBe("running");
    worker = await startWorkers();
    v = await waitCampaign(id, (x) => x.status === "completed", "the campaign to complete after the restart", 90_000);
    expect(v.targets.map((t) => [t.status, t.wave, t.imageVersion])).toEqual([["done", 1, 2], ["done", 2, 2]]);
    expect(v.waves.map((w) => [w.number, w.done, w.failed])).toEqual([[1, 1, 0], [2, 1, 0]]);
    expect(v.targets.every((t) => t.timings.backupMs! > 0 && t.timings.reinstallMs! > 0 && t.timings.checkMs! >= 0)).toBe(true);
    const a1 = await environmentOf("a1");
    expect(a1).toMatchObject({ status: "ready", environment: { imageVersion: 2, outdated: false } });
    const result = await db.select().from(notifications).where(and(eq(notifications.userId, users.ownerA2!.id), eq(notifications.kind, "campaign.result")));
    expect(result.map((n) => n.title)).toEqual([expect.stringMatching(/is on .* version 2/)]);
    const audit = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, id));
    expect(audit.map((a) => a.action).sort()).toEqual(["campaign.complete", "campaign.create", "campaign.pause", "campaign.resume"]);
    await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
  }, 150_000);

  it("stops by itself when a wave fails beyond the threshold, leaves the rest, and rolls the failed one back from its backup", async () => {
    const [b1] = await db.select().from(campaignTargets).where(eq(campaignTargets.environmentId, envs.b1!.environmentId));
    expect(b1).toBeUndefined();
    const before = await environmentOf("b1");
    // The next readiness check on b1's host fails once (sim failure injection).
    const [{ hostId }] = await db.select({ hostId: environments.hostId }).from(environments).where(eq(environments.id, envs.b1!.environmentId));
    await db.update(hosts).set({ config: { failSteps: { wait_ready: 1 } } }).where(eq(hosts.id, hostId!));
    const created = await post(campaignsRoute, "/api/v1/campaigns", tokens.approverB!, {}, campaignBody({ targets: { environments: [envs.b1!.environmentId, envs.b2!.environmentId] } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const first = created.body.targets[0].environmentId as string;
    expect(first).toBe(envs.b1!.environmentId);

    const stopped = await waitCampaign(id, (v) => v.status === "stopped", "the campaign to stop by itself");
    expect(stopped.reason).toMatch(/Wave 1: 1 of 1 environment failed/);
    expect(stopped.targets.map((t) => [t.status, t.wave])).toEqual([["failed", 1], ["pending", null]]);
    expect(stopped.targets[0]!.error).toMatch(/Wait until ready/);
    expect(stopped.canRollback).toBe(true);
    expect(await environmentOf("b2")).toMatchObject({ status: "ready", environment: { imageVersion: 1 } });
    expect((await environmentOf("b1")).status).toBe("failed");
    // Its data is held aside for the rollback: the sweep that releases failed orders leaves it, however late.
    const released = await releaseFailedOrders(db, new Date(Date.now() + 30 * 86400_000));
    const [b1Order] = await db.select({ name: orders.name }).from(orders).where(eq(orders.id, envs.b1!.orderId));
    expect(released).not.toContain(b1Order!.name);
    expect((await invoke(orderRoute.GET, "GET", "/", { token: adminToken, params: { id: envs.b1!.orderId } })).body.hold).toBeNull();

    expect((await post(rollbackRoute, "/", tokens.ownerB!, { id })).status).toBe(403);
    const rolled = await post(rollbackRoute, "/", tokens.approverB!, { id });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    const done = await waitCampaign(id, (v) => v.targets[0]!.status === "rolled_back" || (v.targets[0]!.status === "failed" && v.final), "the rollback");
    expect(done.targets[0]).toMatchObject({ status: "rolled_back", imageVersion: 1, fromVersion: 1 });
    // The rollback put the backup's disk back before the guest booted.
    const [t] = await db.select().from(campaignTargets).where(and(eq(campaignTargets.campaignId, id), eq(campaignTargets.environmentId, envs.b1!.environmentId)));
    const steps = await db.select().from(pipelineSteps).where(eq(pipelineSteps.runId, t!.rollbackRunId!)).orderBy(pipelineSteps.position);
    expect(steps.map((s) => [s.name, s.status]).filter(([n]) => ["storage", "unpack", "restore_disk", "boot"].includes(n!))).toEqual([
      ["storage", "succeeded"], ["unpack", "succeeded"], ["restore_disk", "succeeded"], ["boot", "succeeded"],
    ]);
    const after = await environmentOf("b1");
    expect(after).toMatchObject({ status: "ready", environment: { imageVersion: 1, outdated: true } });
    expect(after.environment.addresses).toEqual(before.environment.addresses);
    expect((await post(rollbackRoute, "/", tokens.approverB!, { id })).status).toBe(409);
    const audit = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, id));
    expect(audit.map((a) => a.action).sort()).toEqual(["campaign.create", "campaign.rollback", "campaign.stop"]);
  }, 120_000);
});
