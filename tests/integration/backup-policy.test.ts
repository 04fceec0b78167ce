/**
 * Backup policies on the sim driver: the owner sets "daily, keep the last 2"; the scheduler
 * (a BullMQ job scheduler) says when it fires next; firing it (the test moves its clock by
 * promoting the scheduled job) backs the environment up, and the third backup prunes the
 * first: its file is gone from the store, it is left out of the list, and the pruning is
 * audited. Bad schedules get 422 and change nothing. A group's backup quota refuses one more
 * backup with 409 naming the group; a lower keepLast frees room at once.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import type { Job } from "bullmq";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import * as policyRoute from "@/app/api/v1/environments/[id]/backup-policy/route";
import * as rulesRoute from "@/app/api/v1/groups/[id]/backup-rules/route";
import { auditEvents, backups, environmentActions } from "@/lib/db/schema";
import { backupStoreDir } from "@/lib/env";
import { backupSchedulerId, getQueue } from "@/lib/jobs/queues";
import { applyRequiredPolicies } from "@/lib/backups/policy";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
let token: string;
let envId: string;
let groupId: string;
let owner: Actor;

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  groupId = group.id;
  owner = await makeUser(db, "customer", group.slug);
  token = await tokenFor(db, owner);
  worker = await startWorkers();
  const view = await waitForOrder(db, (await order(db, owner)).id);
  expect(view.status).toBe("ready");
  envId = view.environment!.id;
});

afterAll(async () => {
  await worker?.stop();
});

const put = (body: unknown) => invoke(policyRoute.PUT, "PUT", "/x", { token, params: { id: envId }, body });
const get = () => invoke(policyRoute.GET, "GET", "/x", { token, params: { id: envId } });
const listed = async () => (await invoke(backupsRoute.GET, "GET", "/x", { token, params: { id: envId } })).body.items as { id: string; status: string }[];

/** The scheduler's next job: the one the clock would start at its time. */
async function scheduledJob(notId?: string): Promise<Job> {
  return waitFor(
    async () => (await getQueue("maintenance").getDelayed()).find((j) => j.repeatJobKey === backupSchedulerId(envId) && j.id !== notId),
    (j) => !!j,
    { what: "the scheduled backup job" },
  ) as Promise<Job>;
}

/** Moves the clock to the scheduled time: the job runs now; resolves with the backup it made, done. */
async function fire(previous?: string): Promise<{ jobId: string; backupId: string }> {
  const job = await scheduledJob(previous);
  const before = (await db.select().from(backups).where(eq(backups.environmentId, envId))).length;
  await job.promote();
  const rows = await waitFor(() => db.select().from(backups).where(eq(backups.environmentId, envId)), (r) => r.length === before + 1, { what: "a scheduled backup" });
  const made = rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  await waitFor(
    async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, made.actionId)))[0],
    (a) => a.status === "succeeded",
    { what: `scheduled backup ${made.id}` },
  );
  return { jobId: job.id!, backupId: made.id };
}

describe("backup policies", () => {
  it("daily, keep the last 2: the scheduler fires at 03:00 UTC and the third backup prunes the first", async () => {
    const res = await put({ schedule: "daily", keepLast: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const next = new Date(res.body.policy.nextRunAt);
    expect(res.body.policy).toMatchObject({ schedule: "daily", pattern: "0 3 * * *", keepLast: 2 });
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 0]);
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    expect((await scheduledJob()).timestamp + (await scheduledJob()).opts.delay!).toBe(next.getTime());

    const first = await fire();
    const second = await fire(first.jobId);
    expect((await listed()).map((b) => b.id)).toEqual([second.backupId, first.backupId]);
    const firstFile = (await db.select().from(backups).where(eq(backups.id, first.backupId)))[0].file!;
    expect(existsSync(path.join(backupStoreDir, firstFile))).toBe(true);

    const third = await fire(second.jobId);
    expect((await listed()).map((b) => b.id)).toEqual([third.backupId, second.backupId]);
    expect((await db.select().from(backups).where(eq(backups.id, first.backupId)))[0].status).toBe("pruned");
    expect(existsSync(path.join(backupStoreDir, firstFile))).toBe(false);
    const pruned = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, first.backupId), eq(auditEvents.action, "backup.pruned")));
    expect(pruned).toHaveLength(1);
  });

  it("refuses schedules the scheduler cannot read, and keepLast out of range, changing nothing", async () => {
    for (const body of [{ schedule: "hourly", keepLast: 2 }, { schedule: "99 99 * * *", keepLast: 2 }, { schedule: "daily", keepLast: 0 }]) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect((await get()).body.policy).toMatchObject({ schedule: "daily", keepLast: 2 });
    const weekly = await put({ schedule: "weekly", keepLast: 3 });
    expect(weekly.status).toBe(200);
    expect(new Date(weekly.body.policy.nextRunAt).getUTCDay()).toBe(1);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "backup.policy")));
    expect(audit).toHaveLength(2);
  });

  it("a group's backup quota refuses one backup too many, naming the group; a lower keepLast frees room", async () => {
    const adminToken = await tokenFor(db, admin);
    const notAdmin = await invoke(rulesRoute.PUT, "PUT", "/x", { token, params: { id: groupId }, body: { maxBackups: 3, maxGb: null } });
    expect(notAdmin.status).toBe(403);
    const set = await invoke(rulesRoute.PUT, "PUT", "/x", { token: adminToken, params: { id: groupId }, body: { maxBackups: 3, maxGb: null } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    // keepLast 3 from the test before: the two kept backups and one more fill the quota.
    expect(set.body).toMatchObject({ maxBackups: 3, backups: 2 });
    const third = await invoke(backupsRoute.POST, "POST", "/x", { token, params: { id: envId } });
    expect(third.status).toBe(202);
    await waitFor(async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, third.body.actionId)))[0], (a) => a.status === "succeeded", { what: "the third backup" });
    const refused = await invoke(backupsRoute.POST, "POST", "/x", { token, params: { id: envId } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/^Backup quota of group .+: 3 of 3 backups kept; a backup policy with a lower keepLast prunes older ones$/);

    expect((await put({ schedule: "weekly", keepLast: 1 })).status).toBe(200);
    expect(await listed()).toHaveLength(1);
    expect((await invoke(backupsRoute.POST, "POST", "/x", { token, params: { id: envId } })).status).toBe(202);
  });

  it("a group that requires a policy gives its environments without one the group's, audited as required by the group", async () => {
    const adminToken = await tokenFor(db, admin);
    const set = await invoke(rulesRoute.PUT, "PUT", "/x", {
      token: adminToken, params: { id: groupId }, body: { maxBackups: null, maxGb: null, requirePolicy: { schedule: "weekly", keepLast: 2 } },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.requirePolicy).toEqual({ schedule: "weekly", keepLast: 2 });
    const second = await waitForOrder(db, (await order(db, owner)).id);
    expect(second.status).toBe("ready");
    const secondEnv = second.environment!.id;
    // Only the new environment lacks a policy; the first keeps its own.
    expect(await applyRequiredPolicies(db)).toBe(1);
    expect(await applyRequiredPolicies(db)).toBe(0);
    const policy = await invoke(policyRoute.GET, "GET", "/x", { token, params: { id: secondEnv } });
    expect(policy.body.policy).toMatchObject({ schedule: "weekly", keepLast: 2 });
    expect((await get()).body.policy).toMatchObject({ schedule: "weekly", keepLast: 1 });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, secondEnv), eq(auditEvents.action, "backup.policy")));
    expect(audit).toMatchObject({ actorId: null, data: { requiredByGroup: true } });
  });
});
