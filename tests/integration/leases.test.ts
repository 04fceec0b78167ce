/**
 * Leases on real PostgreSQL, Redis and the worker's maintenance queue, with the sweep's clock
 * set by the test: warnings in the app and by e-mail (to a real SMTP server on loopback) at
 * 7 days and 1 day before the end, once each; stop at the end; destroy after the grace
 * period with the addresses freed; extensions within the limit, by request, and of a
 * stopped environment, which starts again.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { and, eq } from "drizzle-orm";

vi.hoisted(() => {
  // Before lib/env.ts reads the configuration: mail goes to the sink started below.
  process.env.SMTP_URL = "smtp://127.0.0.1:2525";
  process.env.MAIL_FROM = "portal@portal.test";
  process.env.LEASE_GRACE_DAYS = "3";
});

import * as leasesRoute from "@/app/api/v1/leases/route";
import * as extendRoute from "@/app/api/v1/leases/[environmentId]/extend/route";
import * as approveRoute from "@/app/api/v1/leases/requests/[id]/approve/route";
import * as rejectRoute from "@/app/api/v1/leases/requests/[id]/reject/route";
import * as notificationsRoute from "@/app/api/v1/notifications/route";
import * as readRoute from "@/app/api/v1/notifications/read/route";
import * as limitsRoute from "@/app/api/v1/leases/limits/route";
import { auditEvents, environments, ipAllocations, leaseEvents, notifications, simObjects } from "@/lib/db/schema";
import { enqueueMaintenance, getQueue, type Payload } from "@/lib/jobs/queues";
import { extendLease } from "@/lib/leases/queries";
import { setEmailChoices } from "@/lib/notifications/preferences";
import { DAY_MS } from "@/lib/time";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { bootPortal, makeGroup, makeUser, order, orderStatus, tokenFor, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let sink: SmtpSink;
let customer: Actor, approver: Actor;
let groupSlug: string;
let customerToken: string, approverToken: string;

beforeAll(async () => {
  sink = await startSmtpSink(2525);
  const group = await makeGroup(db, { autoApprove: true });
  groupSlug = group.slug;
  customer = await makeUser(db, "customer", group.slug);
  approver = await makeUser(db, "approver", group.slug);
  customerToken = await tokenFor(db, customer);
  // Only the lease's e-mails are this file's business, not "ready" for each delivery.
  await setEmailChoices(db, customer.id, { "order.ready": false });
  approverToken = await tokenFor(db, approver);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

/** Runs one maintenance job through the real queue and worker at the given time; returns its result. */
async function sweep(now: Date, task: "leases" | "courses" = "leases") {
  const id = await enqueueMaintenance({ task, now: now.toISOString() } as Payload<"maintenance">);
  const queue = getQueue("maintenance");
  const state = await waitFor(async () => (await queue.getJob(id!))?.getState(), (s) => s === "completed" || s === "failed", { what: `maintenance job ${id}` });
  const job = await queue.getJob(id!);
  expect(state, job?.failedReason).toBe("completed");
  return job!.returnvalue as Record<string, string[]>;
}

async function deliveredEnvironment(leaseDays: number) {
  const created = await order(db, customer, { leaseDays });
  const view = await waitForOrder(db, created.id);
  expect(view.status).toBe("ready");
  const [environment] = await db.select().from(environments).where(eq(environments.orderId, created.id));
  return { orderId: created.id, name: view.name, environment, end: environment.expiresAt };
}

const plus = (d: Date, days: number, minutes = 0) => new Date(d.getTime() + days * DAY_MS + minutes * 60_000);

/** The e-mails to the customer about `name` (from the worker's mail queue), once there are `count`. */
function mailsAbout(name: string, count: number) {
  return waitFor(async () => sink.to(customer.email).filter((m) => m.subject.includes(name)), (m) => m.length >= count, { what: `${count} e-mail(s) about ${name}` });
}

async function eventsOf(environmentId: string) {
  return db.select().from(leaseEvents).where(eq(leaseEvents.environmentId, environmentId)).orderBy(leaseEvents.at);
}

async function guestState(hostname: string) {
  const [guest] = await db.select().from(simObjects).where(and(eq(simObjects.kind, "guest"), eq(simObjects.name, hostname)));
  return guest?.state;
}

describe("a 30-day lease runs out", () => {
  it("warns at 7 days and 1 day (in the app and by e-mail, once each), stops at the end, destroys after the grace period and frees the addresses", async () => {
    const { orderId, name, environment, end } = await deliveredEnvironment(30);
    expect(end.getTime() - environment.createdAt.getTime()).toBeGreaterThanOrEqual(30 * DAY_MS - 60_000);
    const mine = () => sink.to(customer.email).filter((m) => m.subject.includes(name));

    // 8 days before the end: nothing is due.
    await sweep(plus(end, -8));
    expect(await eventsOf(environment.id)).toEqual([]);
    expect(mine()).toEqual([]);

    // 7 days before: one warning, and again nothing on a second sweep or two sweeps at once.
    const report = await sweep(plus(end, -7, 30));
    expect(report.warn_7d).toEqual([name]);
    await sweep(plus(end, -7, 40));
    await Promise.all([sweep(plus(end, -6)), sweep(plus(end, -6))]);
    expect((await mailsAbout(name, 1)).map((m) => m.subject)).toEqual([`${name} expires in 7 days`]);
    expect(mine()[0].from).toBe("portal@portal.test");
    expect(mine()[0].text).toContain(`/orders/${orderId}`);
    expect(mine()[0].text).toContain("destroyed and its addresses are freed");

    const inbox = await invoke(notificationsRoute.GET, "GET", "/api/v1/notifications", { token: customerToken });
    expect(inbox.status).toBe(200);
    expect(inbox.body.unread).toBeGreaterThanOrEqual(1);
    expect(inbox.body.notifications.filter((n: { title: string }) => n.title === `${name} expires in 7 days`)).toHaveLength(1);

    // 1 day before: the second warning, once.
    await sweep(plus(end, -1, 30));
    await sweep(plus(end, -1, 60));
    expect((await mailsAbout(name, 2)).map((m) => m.subject)).toEqual([`${name} expires in 7 days`, `${name} expires in 1 day`]);

    // The page's view of it: end, days left, warnings with their e-mail outcome.
    const lease = await waitFor(
      async () => (await invoke(leasesRoute.GET, "GET", "/api/v1/leases", { token: customerToken })).body.leases.find((l: { environmentId: string }) => l.environmentId === environment.id),
      (l) => l.events.every((e: { email: string }) => e.email === "sent"),
      { what: "both warnings to show as e-mailed" },
    );
    expect(lease.events.map((e: { kind: string; email: string }) => [e.kind, e.email])).toEqual([["warn_7d", "sent"], ["warn_1d", "sent"]]);

    // The end: the guest is stopped, the order is expiring and says until when.
    expect(await guestState(name)).toBe("running");
    const stopped = await sweep(plus(end, 0, 1));
    expect(stopped.stop).toEqual([name]);
    expect(await orderStatus(db, orderId)).toMatchObject({ status: "expiring", reason: expect.stringContaining("unless the lease is extended") });
    const [env1] = await db.select().from(environments).where(eq(environments.id, environment.id));
    expect(env1.state).toBe("stopped");
    expect(await guestState(name)).toBe("stopped");
    expect((await mailsAbout(name, 3)).at(-1)!.subject).toBe(`${name} was stopped: its lease ended`);
    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, orderId))).toHaveLength(2);

    // During the grace period: kept, stopped, no more mail.
    await sweep(plus(end, 2, 23 * 60));
    expect((await orderStatus(db, orderId)).status).toBe("expiring");
    expect(mine()).toHaveLength(3);

    // After it: destroyed by the teardown run, addresses freed.
    const retired = await sweep(plus(end, 3, 1));
    expect(retired.retire).toEqual([name]);
    const view = await waitForOrder(db, orderId, ["retired"]);
    expect(view.teardown?.steps.map((s) => [s.name, s.status])).toEqual([["halt", "succeeded"], ["destroy", "succeeded"], ["release", "succeeded"]]);
    expect(view.environment?.state).toBe("deleted");
    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, orderId))).toEqual([]);
    expect(await guestState(name)).toBe("deleted");
    expect((await mailsAbout(name, 4)).map((m) => m.subject)).toEqual([
      `${name} expires in 7 days`, `${name} expires in 1 day`, `${name} was stopped: its lease ended`, `${name} is being destroyed`,
    ]);
    expect((await eventsOf(environment.id)).map((e) => e.kind)).toEqual(["warn_7d", "warn_1d", "stopped", "retired"]);

    // A late sweep changes nothing.
    await sweep(plus(end, 10));
    expect(mine()).toHaveLength(4);
    const audit = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, environment.id));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["lease.warn_7d", "lease.warn_1d", "lease.stopped", "lease.retired"]));

    // Mark read: the bell's count goes down to zero.
    const read = await invoke(readRoute.POST, "POST", "/api/v1/notifications/read", { token: customerToken, body: {} });
    expect(read.body.unread).toBe(0);
    const unread = await db.select().from(notifications).where(eq(notifications.userId, customer.id));
    expect(unread.every((n) => n.readAt !== null)).toBe(true);
  });
});

describe("extensions", () => {
  it("within the limit at once; beyond it a request an approver rejects (reason shown) or accepts", async () => {
    const { environment, end, name } = await deliveredEnvironment(14);
    const url = `/api/v1/leases/${environment.id}/extend`;
    const params = { environmentId: environment.id };

    const bad = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 0 } });
    expect(bad.status).toBe(422);
    expect(bad.body.fields.days).toEqual(["Extend by at least 1 day"]);

    const granted = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 10 } });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ outcome: "extended", reason: "granted: 24 days in total is within the 90-day limit of the portal" });
    expect(new Date(granted.body.expiresAt).getTime()).toBe(end.getTime() + 10 * DAY_MS);

    const held = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 100, reason: "thesis runs until June" } });
    expect(held.status).toBe(202);
    expect(held.body).toMatchObject({ outcome: "requested", reason: "needs an approver: 124 days in total is beyond the 90-day limit of the portal" });
    const again = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 5 } });
    expect(again.status).toBe(409);

    // The approver is told, and the customer cannot decide on their own request.
    const [told] = await db.select().from(notifications).where(and(eq(notifications.userId, approver.id), eq(notifications.kind, "lease.extension_request")));
    expect(told.title).toBe(`${customer.email} asks to extend ${name} by 100 days`);
    const self = await invoke(approveRoute.POST, "POST", "/x", { token: customerToken, params: { id: held.body.requestId }, body: {} });
    expect(self.status).toBe(403);

    const rejected = await invoke(rejectRoute.POST, "POST", "/x", { token: approverToken, params: { id: held.body.requestId }, body: { reason: "the lab closes in March" } });
    expect(rejected.status).toBe(200);
    const [refusal] = await db.select().from(notifications).where(and(eq(notifications.userId, customer.id), eq(notifications.kind, "lease.extension_rejected")));
    expect(refusal.body).toBe(`${approver.email}: the lab closes in March`);
    const leases = await invoke(leasesRoute.GET, "GET", "/api/v1/leases", { token: customerToken });
    const lease = leases.body.leases.find((l: { environmentId: string }) => l.environmentId === environment.id);
    expect(lease.requests[0]).toMatchObject({ status: "rejected", decisionReason: "the lab closes in March", decidedBy: approver.email, reason: "thesis runs until June" });
    expect(new Date(lease.expiresAt).getTime()).toBe(end.getTime() + 10 * DAY_MS);

    const second = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 70 } });
    expect(second.status).toBe(202);
    const approved = await invoke(approveRoute.POST, "POST", "/x", { token: approverToken, params: { id: second.body.requestId }, body: { reason: "fine" } });
    expect(approved.status).toBe(200);
    const [after] = await db.select().from(environments).where(eq(environments.id, environment.id));
    expect(after.expiresAt.getTime()).toBe(end.getTime() + 80 * DAY_MS);
    const twice = await invoke(approveRoute.POST, "POST", "/x", { token: approverToken, params: { id: second.body.requestId }, body: {} });
    expect(twice.status).toBe(409);
  });

  it("an admin's limit for the group applies, and the request names it", async () => {
    const adminToken = await tokenFor(db, admin);
    const refused = await invoke(limitsRoute.PUT, "PUT", "/api/v1/leases/limits", { token: customerToken, body: { group: groupSlug, maxDays: 20 } });
    expect(refused.status).toBe(403);
    const bad = await invoke(limitsRoute.PUT, "PUT", "/api/v1/leases/limits", { token: adminToken, body: { group: "no-such-group", maxDays: 20 } });
    expect(bad.status).toBe(422);
    expect(bad.body.fields.group).toEqual(['No group "no-such-group"']);
    const set = await invoke(limitsRoute.PUT, "PUT", "/api/v1/leases/limits", { token: adminToken, body: { group: groupSlug, maxDays: 20 } });
    expect(set.status).toBe(200);
    expect(set.body.limits).toContainEqual({ maxDays: 20, group: groupSlug, image: null });

    const { environment } = await deliveredEnvironment(14);
    const params = { environmentId: environment.id };
    const url = `/api/v1/leases/${environment.id}/extend`;
    const ok = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 6 } });
    expect(ok.body.reason).toBe(`granted: 20 days in total is within the 20-day limit of group Group ${groupSlug}`);
    const held = await invoke(extendRoute.POST, "POST", url, { token: customerToken, params, body: { days: 1 } });
    expect(held.status).toBe(202);
    expect(held.body.reason).toBe(`needs an approver: 21 days in total is beyond the 20-day limit of group Group ${groupSlug}`);
    // An approver of the group extends without asking anyone.
    await invoke(rejectRoute.POST, "POST", "/x", { token: approverToken, params: { id: held.body.requestId }, body: { reason: "not needed" } });
    const byApprover = await invoke(extendRoute.POST, "POST", url, { token: approverToken, params, body: { days: 30 } });
    expect(byApprover.body).toMatchObject({ outcome: "extended", reason: `granted: extensions by an approver of group Group ${groupSlug} need no approval` });
    await invoke(limitsRoute.PUT, "PUT", "/api/v1/leases/limits", { token: adminToken, body: { group: groupSlug, maxDays: null } });
  });

  it("a stopped environment extended in its grace period starts again and is not destroyed", async () => {
    const { orderId, environment, end, name } = await deliveredEnvironment(10);
    await sweep(plus(end, 0, 5));
    await mailsAbout(name, 1);
    expect((await orderStatus(db, orderId)).status).toBe("expiring");
    expect(await guestState(name)).toBe("stopped");

    const result = await extendLease(db, customer, environment.id, { days: 5 }, plus(end, 1));
    expect(result.outcome).toBe("extended");
    expect((await orderStatus(db, orderId)).status).toBe("ready");

    // The extension asks for a sweep at once; one more at the test's clock must not start it twice.
    await sweep(plus(end, 1, 10));
    await waitFor(() => guestState(name), (s) => s === "running", { what: "the guest to run again" });
    const [env2] = await db.select().from(environments).where(eq(environments.id, environment.id));
    expect(env2.state).toBe("running");
    // Past the old grace period nothing is destroyed. The lease now ends 6 days after the old
    // end, so the warnings count again for the new end: the 7-day one went out with the
    // sweep above (5 days left), once.
    await sweep(plus(end, 4));
    expect((await orderStatus(db, orderId)).status).toBe("ready");
    expect((await eventsOf(environment.id)).map((e) => e.kind)).toEqual(["stopped", "restarted", "warn_7d"]);
    expect((await mailsAbout(name, 2)).map((m) => m.subject)).toEqual([`${name} was stopped: its lease ended`, `${name} expires in 5 days`]);
  });
});

describe("the list of leases", () => {
  it("comes in pages, soonest end first: limit and nextCursor give every lease once", async () => {
    await Promise.all([deliveredEnvironment(12), deliveredEnvironment(13)]);
    const list = (query: string) => invoke(leasesRoute.GET, "GET", `/api/v1/leases${query}`, { token: customerToken });
    const whole = await list("?limit=200");
    expect(whole.status).toBe(200);
    expect(whole.body.nextCursor).toBeNull();
    const all = whole.body.leases as { environmentId: string; expiresAt: string }[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.map((l) => l.expiresAt)).toEqual([...all.map((l) => l.expiresAt)].sort());

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.body.leases.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.leases.map((l: { environmentId: string }) => l.environmentId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.map((l) => l.environmentId));

    const tooMany = await list("?limit=201");
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.fields.limit[0]).toBe("limit is at most 200");
    const badCursor = await list("?cursor=not-a-cursor");
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.fields.cursor[0]).toMatch(/Not a cursor/);
  });
});
