/**
 * Backup schedules survive Redis losing its data. The policies live in PostgreSQL, their job
 * schedulers in Redis: when every key of this test's Redis prefix is gone (what FLUSHALL or a
 * failover to an empty replica does to a portal; the shared Redis itself is never flushed), a
 * worker that starts, or one that keeps running, puts every scheduler back, with the next run
 * the policy had before, and the schedule fires (the test moves the clock by promoting the
 * scheduled job) and backs the environment up. The same holds for a policy a group requires.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { Job } from "bullmq";
import * as policyRoute from "@/app/api/v1/environments/[id]/backup-policy/route";
import * as rulesRoute from "@/app/api/v1/groups/[id]/backup-rules/route";
import { backups } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { backupSchedulerId, getQueue } from "@/lib/jobs/queues";
import { applyRequiredPolicies, restoreBackupSchedulers } from "@/lib/backups/policy";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { deleteRedisPrefix } from "../helpers/infra";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForAction, waitForOrder } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
/** An environment with a policy of its owner's, and one with the policy its group requires. */
const own = { env: "", token: "" };
const required = { env: "", token: "" };
/** Both policies as the API shows them before Redis lost anything (their next runs included). */
let before: { schedule: string; nextRunAt: string | null }[] = [];

async function deliveredEnvironment(requirePolicy?: { schedule: string; keepLast: number }) {
  const group = await makeGroup(db, { autoApprove: true });
  if (requirePolicy) {
    const set = await invoke(rulesRoute.PUT, "PUT", "/x", { token: await tokenFor(db, admin), params: { id: group.id }, body: { maxBackups: null, maxGb: null, requirePolicy } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
  }
  const owner = await makeUser(db, "customer", group.slug);
  const view = await waitForOrder(db, (await order(db, owner)).id);
  expect(view.status).toBe("ready");
  return { env: view.environment!.id, token: await tokenFor(db, owner) };
}

beforeAll(async () => {
  worker = await startWorkers();
  Object.assign(own, await deliveredEnvironment());
  Object.assign(required, await deliveredEnvironment({ schedule: "weekly", keepLast: 2 }));
  const set = await invoke(policyRoute.PUT, "PUT", "/x", { token: own.token, params: { id: own.env }, body: { schedule: "30 4 * * *", keepLast: 3 } });
  expect(set.status, JSON.stringify(set.body)).toBe(200);
  await applyRequiredPolicies(db);
});

afterAll(async () => {
  await worker?.stop();
});

const policyOf = async (e: { env: string; token: string }) => (await invoke(policyRoute.GET, "GET", "/x", { token: e.token, params: { id: e.env } })).body.policy as { schedule: string; nextRunAt: string | null };
const scheduler = (environmentId: string) => getQueue("maintenance").getJobScheduler(backupSchedulerId(environmentId));

/** Redis loses every key of this portal (this test's prefix): queues, jobs, schedulers. */
async function loseRedisData() {
  expect(await deleteRedisPrefix(env.REDIS_PREFIX)).toBeGreaterThan(0);
}

/** Moves the clock to the scheduled time of the environment's next backup; resolves once that backup is done. */
async function fire(environmentId: string) {
  const job = (await waitFor(
    async () => (await getQueue("maintenance").getDelayed()).find((j) => j.repeatJobKey === backupSchedulerId(environmentId)),
    (j) => !!j,
    { what: "the scheduled backup job" },
  )) as Job;
  const before = (await db.select().from(backups).where(eq(backups.environmentId, environmentId))).length;
  await job.promote();
  const rows = await waitFor(() => db.select().from(backups).where(eq(backups.environmentId, environmentId)), (r) => r.length === before + 1, { what: "the scheduled backup" });
  const made = rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  expect((await waitForAction(db, made.actionId)).status).toBe("succeeded");
}

describe("backup schedules after Redis lost its data", () => {
  it("a worker that starts re-creates every backup scheduler from the policies, with the same next run, and they fire", async () => {
    before = [await policyOf(own), await policyOf(required)];
    expect(before.map((p) => p.schedule)).toEqual(["30 4 * * *", "weekly"]);
    expect(before.every((p) => p.nextRunAt)).toBe(true);

    await worker!.stop();
    worker = null;
    await loseRedisData();
    expect(await scheduler(own.env)).toBeFalsy();
    expect(await scheduler(required.env)).toBeFalsy();
    expect((await policyOf(own)).nextRunAt).toBeNull();

    worker = await startWorkers();
    expect([await policyOf(own), await policyOf(required)]).toEqual(before);
    // Idempotent: with every scheduler in place, another pass changes nothing.
    expect(await restoreBackupSchedulers(db)).toEqual([]);
    await fire(own.env);
    await fire(required.env);
  });

  it("a running worker notices the loss and puts the schedulers back while it runs", async () => {
    // Firing by promotion moved the schedulers one turn on (the test's clock, not the real one);
    // back from the policies they are where the real clock has them: as before the first loss.
    await loseRedisData();
    await waitFor(async () => [await policyOf(own), await policyOf(required)], (now) => JSON.stringify(now) === JSON.stringify(before), { what: "the backup schedules to be back" });
    await fire(own.env);
    await fire(required.env);
  });
});
