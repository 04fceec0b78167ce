/**
 * Start and stop of delivered environments through the API, on the sim driver: who may, which
 * states allow what (409 with the reason), one action at a time, an audit event per request,
 * and a lost job re-enqueued by the reconciler.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import { auditEvents, environmentActions, environments, orders, simObjects } from "@/lib/db/schema";
import { getQueue } from "@/lib/jobs/queues";
import { destroyEnvironment, orderView } from "@/lib/orders/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { reconcileActions } from "@/workers/reconciler";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder, type Actor, waitForAction } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
let owner: Actor;
let token: { owner: string; other: string; admin: string; approver: string };

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  owner = await makeUser(db, "customer", auto.slug);
  token = {
    owner: await tokenFor(db, owner),
    other: await tokenFor(db, await makeUser(db, "customer", auto.slug)),
    admin: await tokenFor(db, admin),
    approver: await tokenFor(db, await makeUser(db, "approver", auto.slug)),
  };
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

const call = (route: typeof startRoute, id: string, t: string) => invoke(route.POST, "POST", `/api/v1/environments/${id}/x`, { token: t, params: { id } });

const actionDone = (id: string) => waitForAction(db, id);

async function envState(id: string) {
  return (await db.select({ state: environments.state }).from(environments).where(eq(environments.id, id)))[0].state;
}

describe("start and stop", () => {
  it("the owner stops and starts a delivered environment; each request is audited and the guest follows", async () => {
    const created = await order(db, owner);
    const view = await waitForOrder(db, created.id);
    expect(view.status).toBe("ready");
    const envId = view.environment!.id;

    const stop = await call(stopRoute, envId, token.owner);
    expect(stop.status).toBe(202);
    expect(stop.body).toMatchObject({ action: "stop", status: "queued", environmentId: envId });
    expect((await actionDone(stop.body.id)).status).toBe("succeeded");
    expect(await envState(envId)).toBe("stopped");
    const [guest] = await db.select().from(simObjects).where(and(eq(simObjects.kind, "guest"), eq(simObjects.name, view.environment!.hostname)));
    expect(guest.state).toBe("stopped");
    expect((await orderView(db, created.id)).environment!.power[0]).toMatchObject({ action: "stop", status: "succeeded" });

    const again = await call(stopRoute, envId, token.owner);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("The environment is already stopped");

    // An admin may start anyone's environment.
    const start = await call(startRoute, envId, token.admin);
    expect(start.status).toBe(202);
    expect((await actionDone(start.body.id)).status).toBe("succeeded");
    expect(await envState(envId)).toBe("running");

    const audit = await db.select().from(auditEvents).where(eq(auditEvents.targetId, envId));
    expect(audit.map((a) => a.action).sort()).toEqual(["environment.start", "environment.stop"]);
  });

  it("another customer gets 404, an approver of the group 403; an undelivered order or an unknown id is refused", async () => {
    const created = await order(db, owner);
    const view = await waitForOrder(db, created.id);
    const envId = view.environment!.id;
    expect((await call(stopRoute, envId, token.other)).status).toBe(404);
    const approver = await call(stopRoute, envId, token.approver);
    expect(approver.status).toBe(403);
    expect(approver.body.error).toBe("Only the customer who ordered it or an admin can do that");
    expect((await call(stopRoute, "00000000-0000-4000-8000-000000000000", token.owner)).status).toBe(404);
    expect((await call(stopRoute, "not-a-uuid", token.owner)).status).toBe(404);

    // Being destroyed: not startable or stoppable any more.
    await db.update(environments).set({ state: "deleting" }).where(eq(environments.id, envId));
    await db.update(orders).set({ status: "retiring" }).where(eq(orders.id, created.id));
    const refused = await call(startRoute, envId, token.owner);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe("The order is retiring; only a delivered environment can be started or stopped");
    expect(await db.select().from(environmentActions).where(eq(environmentActions.environmentId, envId))).toEqual([]);
  });

  it("one action at a time: a second request while one is queued is refused with what is in progress", async () => {
    const created = await order(db, owner);
    const view = await waitForOrder(db, created.id);
    const envId = view.environment!.id;
    await worker!.stop(); // nothing takes the job: it stays queued
    worker = null;
    const first = await call(stopRoute, envId, token.owner);
    expect(first.status).toBe(202);
    const second = await call(startRoute, envId, token.owner);
    expect(second.status).toBe(409);
    expect(second.body.error).toBe("A stop of this environment is already queued; wait until it is done");

    // Redis loses the job: the reconciler enqueues it again from the database, and it runs.
    const job = await getQueue("lifecycle").getJob(`action-${first.body.id}`);
    await job!.remove();
    const { requeued } = await reconcileActions(db, getQueue("lifecycle"));
    expect(requeued).toEqual([first.body.id]);
    worker = await startWorkers();
    expect((await actionDone(first.body.id)).status).toBe("succeeded");
    expect(await envState(envId)).toBe("stopped");
  });

  it("a stop still queued when the environment is destroyed does not run, and leaves the environment deleted", async () => {
    const created = await order(db, owner);
    const view = await waitForOrder(db, created.id);
    const envId = view.environment!.id;
    await worker!.stop();
    worker = null;
    const stop = await call(stopRoute, envId, token.owner);
    expect(stop.status).toBe(202);
    await destroyEnvironment(db, owner, created.id);
    worker = await startWorkers();
    await waitForOrder(db, created.id, ["retired", "failed"]);
    const action = await actionDone(stop.body.id);
    expect(action.status).toBe("failed");
    expect(action.error).toMatch(/^the order is (retiring|retired); the stop was not run$|^the environment has no host$/);
    expect(await envState(envId)).toBe("deleted");
  });
});
