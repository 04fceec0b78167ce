/**
 * What happens to an order reaches its owner on real PostgreSQL, Redis, workers and an SMTP
 * server on loopback (STARTTLS): held (and its approvers are told), approved, rejected with
 * the reason, ready, failed with the step, stopped, moved and destroyed by an admin. Each is
 * an in-app notification linking to the order and, unless the user turned that kind off, one
 * e-mail. A mail server that is down, even with Redis losing the queue's data meanwhile,
 * delays the mail; a recipient the server refuses, or the last attempt, marks it failed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { and, desc, eq, like, ne } from "drizzle-orm";

const { smtpPort } = vi.hoisted(() => {
  // Before lib/env.ts reads the configuration: mail goes to the sink started below, over
  // STARTTLS (its certificate is self-signed), retried quickly.
  const smtpPort = 20_000 + Math.floor(Math.random() * 10_000);
  process.env.SMTP_URL = `smtp://127.0.0.1:${smtpPort}/?tls.rejectUnauthorized=false`;
  process.env.MAIL_FROM = "portal@portal.test";
  process.env.MAIL_RETRY_MS = "100";
  process.env.MAIL_ATTEMPTS = "20";
  return { smtpPort };
});

import * as approveRoute from "@/app/api/v1/orders/[id]/approve/route";
import * as rejectRoute from "@/app/api/v1/orders/[id]/reject/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as notificationsRoute from "@/app/api/v1/notifications/route";
import * as preferencesRoute from "@/app/api/v1/me/email-preferences/route";
import { auditEvents, environmentActions, environments, hosts, mails, notifications, type NotificationEvent } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { executeAction, type ActionHandler } from "@/lib/lifecycle/actions";
import { migrateEnvironment } from "@/lib/lifecycle/migrate";
import { deliverMail, queueMail } from "@/lib/mail/outbox";
import { createUser } from "@/lib/users/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { deleteRedisPrefix } from "../helpers/infra";
import { startSmtpSink, type SmtpSink, type SunkMessage } from "../helpers/smtp-sink";
import { bootPortal, injectFailures, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
const sinkOptions = { starttls: true, refuse: /^nobody-/ };
/** The sink, restarted on the same port when a test takes it down; the last one is up. */
const sinks: SmtpSink[] = [];
const sink = () => sinks.at(-1)!;
/** Every message any of them received. */
const received = (): SunkMessage[] => sinks.flatMap((s) => s.messages);
let worker: RunningWorkers;
let customer: Actor, approver: Actor, owner: Actor;
let token: { customer: string; approver: string; owner: string; admin: string };

async function openSink() {
  sinks.push(await startSmtpSink(smtpPort, sinkOptions));
}

beforeAll(async () => {
  await openSink();
  const held = await makeGroup(db, { autoApprove: false });
  const auto = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", held.slug);
  approver = await makeUser(db, "approver", held.slug);
  owner = await makeUser(db, "customer", auto.slug);
  token = { customer: await tokenFor(db, customer), approver: await tokenFor(db, approver), owner: await tokenFor(db, owner), admin: await tokenFor(db, admin) };
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
  await sinks.at(-1)?.close();
});

async function inbox(userId: string, kind?: NotificationEvent) {
  const rows = await db.select().from(notifications).where(eq(notifications.userId, userId)).orderBy(desc(notifications.createdAt));
  return kind ? rows.filter((n) => n.kind === kind) : rows;
}

/** The mails to `email` with this subject, once `count` of them arrived. */
function mailsArrived(email: string, subject: string, count = 1) {
  return waitFor(
    async () => received().filter((m) => m.to.includes(email) && m.subject === subject),
    (found) => found.length >= count,
    { what: `${count} e-mail(s) "${subject}" to ${email}` },
  );
}

async function outbox(userId: string, subject: string) {
  return db.select().from(mails).where(and(eq(mails.userId, userId), eq(mails.subject, subject)));
}

const approve = (id: string, reason?: string) =>
  invoke(approveRoute.POST, "POST", `/api/v1/orders/${id}/approve`, { token: token.approver, params: { id }, body: reason ? { reason } : {} });
const reject = (id: string, reason: string) => invoke(rejectRoute.POST, "POST", `/api/v1/orders/${id}/reject`, { token: token.approver, params: { id }, body: { reason } });

async function heldOrder(actor = customer) {
  const name = unique("nt");
  const created = await order(db, actor, { name });
  expect(created.status).toBe("pending_approval");
  return { id: created.id, name };
}

describe("an order's life reaches its owner", () => {
  it("held: the owner and whoever may decide are told; approved and ready: the owner, in the app and by one e-mail each", async () => {
    const { id, name } = await heldOrder();
    const [held] = await inbox(customer.id, "order.held");
    expect(held).toMatchObject({ title: `${name} waits for approval`, link: `/orders/${id}`, readAt: null });
    expect(held.body).toContain("requires an approver");
    for (const decider of [approver.id, admin.id]) {
      expect((await inbox(decider, "order.awaiting_approval")).find((n) => n.link === `/orders/${id}`)?.title).toBe(`${name} waits for your approval`);
    }
    const [toApprover] = await mailsArrived(approver.email, `${name} waits for your approval`);
    expect(toApprover.text).toContain(`${customer.email} ordered`);
    expect(toApprover.text).toContain(`/orders/${id}`);
    expect(toApprover.secure).toBe(true);
    expect(toApprover.from).toBe("portal@portal.test");

    expect((await approve(id, "go ahead")).status).toBe(200);
    expect((await waitForOrder(db, id)).status).toBe("ready");
    const approved = (await inbox(customer.id, "order.approved")).find((n) => n.link === `/orders/${id}`)!;
    expect(approved).toMatchObject({ title: `${name} was approved`, body: expect.stringContaining(`Approved by ${approver.email}: go ahead`) });
    const ready = (await inbox(customer.id, "order.ready")).find((n) => n.link === `/orders/${id}`)!;
    expect(ready.title).toBe(`${name} is ready`);
    expect(ready.body).toMatch(new RegExp(`^${name} runs on sim-\\d; addresses .*10\\.30\\.0\\.\\d+ \\(`));
    // Nobody is told about their own decision.
    expect((await inbox(approver.id, "order.approved")).filter((n) => n.link === `/orders/${id}`)).toEqual([]);

    const subjects = [`${name} waits for approval`, `${name} was approved`, `${name} is ready`];
    for (const subject of subjects) await mailsArrived(customer.email, subject);
    const [readyMail] = await mailsArrived(customer.email, `${name} is ready`);
    expect(readyMail.text).toContain(`Hello Test customer,\n\n${ready.body}`);
    expect(readyMail.text).toContain(`/orders/${id}`);
    // One e-mail per event: every row sent once, its text no longer kept.
    const rows = await db.select().from(mails).where(and(eq(mails.userId, customer.id), like(mails.subject, `${name} %`)));
    expect(rows.map((r) => [r.subject, r.status, r.attempts, r.text]).sort()).toEqual(subjects.map((s) => [s, "sent", 1, ""]).sort());
    expect(received().filter((m) => m.to.includes(customer.email) && m.subject.startsWith(`${name} `))).toHaveLength(3);

    const bell = await invoke(notificationsRoute.GET, "GET", "/api/v1/notifications", { token: token.customer });
    expect(bell.body.unread).toBeGreaterThanOrEqual(3);
  });

  it("rejected: the owner reads the reason, in the app and in the e-mail", async () => {
    const { id, name } = await heldOrder();
    expect((await reject(id, "no budget left this term")).status).toBe(200);
    const [rejected] = await inbox(customer.id, "order.rejected");
    expect(rejected).toMatchObject({ title: `${name} was rejected`, body: `Rejected by ${approver.email}: no budget left this term`, link: `/orders/${id}` });
    const [mail] = await mailsArrived(customer.email, `${name} was rejected`);
    expect(mail.text).toContain(`Rejected by ${approver.email}: no budget left this term`);
  });

  it("failed: the owner is told which step failed and why", async () => {
    await injectFailures(db, { glue: 1 });
    try {
      const name = unique("nt");
      const created = await order(db, owner, { name });
      expect((await waitForOrder(db, created.id)).status).toBe("failed");
      const [failed] = await inbox(owner.id, "order.failed");
      expect(failed.title).toBe(`${name} failed at step "Glue (hostname, users, keys)"`);
      expect(failed.body).toMatch(/^Step "Glue \(hostname, users, keys\)" failed: .+Retry it from the order's page/);
      expect(failed.link).toBe(`/orders/${created.id}`);
      await mailsArrived(owner.email, failed.title);
    } finally {
      await db.update(hosts).set({ config: {} }).where(eq(hosts.kind, "sim"));
    }
  });

  it("an admin stops, moves and destroys a customer's environment: the owner is told each time; what the owners do themselves tells nobody", async () => {
    const name = unique("nt");
    const created = await order(db, owner, { name });
    expect((await waitForOrder(db, created.id)).status).toBe("ready");
    const [environment] = await db.select().from(environments).where(eq(environments.orderId, created.id));
    const action = (route: typeof stopRoute, t: string) => invoke(route.POST, "POST", "/x", { token: t, params: { id: environment.id } });
    const done = (actionId: string) =>
      waitFor(async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, actionId)))[0], (a) => a.status === "succeeded", { what: `action ${actionId}` });
    const mine = async (kind: NotificationEvent) => (await inbox(owner.id, kind)).filter((n) => n.link === `/orders/${created.id}`);

    await done((await action(stopRoute, token.admin)).body.id);
    expect(await mine("environment.stopped")).toMatchObject([{ title: `${name} was stopped`, body: expect.stringContaining(`Stopped by ${admin.email}`) }]);
    await mailsArrived(owner.email, `${name} was stopped`);
    await done((await action(startRoute, token.owner)).body.id);
    await done((await action(stopRoute, token.owner)).body.id);
    expect(await mine("environment.stopped")).toHaveLength(1);

    // The sim hypervisor cannot migrate; here it moves the guest as a live migration reports it.
    const [from] = await db.select().from(hosts).where(eq(hosts.id, environment.hostId));
    const [target] = await db.select().from(hosts).where(and(eq(hosts.kind, "sim"), ne(hosts.id, from.id)));
    const [moveRow] = await db
      .insert(environmentActions)
      .values({ environmentId: environment.id, action: "migrate", requestedBy: admin.id, fromHostId: environment.hostId, targetHostId: target.id })
      .returning();
    const simulatedMigration: ActionHandler = (tx, ctx, io) =>
      migrateEnvironment(tx, { ...ctx, driver: Object.assign(Object.create(ctx.driver), { migrate: async () => ({ mode: "live", totalMs: 1800, downtimeMs: 35, transferredBytes: null }) }) }, io);
    expect(await executeAction(db, moveRow.id, { migrate: simulatedMigration }, new AbortController().signal)).toBe("succeeded");
    const [moved] = await mine("environment.moved");
    expect(moved).toMatchObject({
      title: `${name} moved to ${target.name}`,
      body: `${admin.email} moved it from ${from.name} to ${target.name} (live migration, 1800 ms, downtime 35 ms). Its addresses and MAC addresses stay the same.`,
    });
    await mailsArrived(owner.email, moved.title);

    expect((await invoke(destroyRoute.POST, "POST", "/x", { token: token.admin, params: { id: created.id } })).status).toBe(200);
    expect(await mine("environment.retired")).toMatchObject([{ title: `${name} is being destroyed`, body: `Destroy requested by ${admin.email}. Its disk is removed and its addresses are freed.` }]);
    await mailsArrived(owner.email, `${name} is being destroyed`);

    const own = await order(db, owner, { name: unique("nt") });
    expect((await waitForOrder(db, own.id)).status).toBe("ready");
    expect((await invoke(destroyRoute.POST, "POST", "/x", { token: token.owner, params: { id: own.id } })).status).toBe(200);
    expect((await inbox(owner.id, "environment.retired")).filter((n) => n.link === `/orders/${own.id}`)).toEqual([]);
  });
});

describe("e-mail preferences", () => {
  it("a kind turned off on Account comes in the app only; the others still come by e-mail", async () => {
    const prefs = "/api/v1/me/email-preferences";
    const off = await invoke(preferencesRoute.PATCH, "PATCH", prefs, { token: token.customer, body: { email: { "order.held": false, "order.ready": false } } });
    expect(off.status).toBe(200);
    expect(off.body.email).toMatchObject({ "order.held": false, "order.ready": false, "order.approved": true });
    try {
      const { id, name } = await heldOrder();
      expect((await approve(id)).status).toBe(200);
      expect((await waitForOrder(db, id)).status).toBe("ready");
      // In the app: all three, as before.
      for (const kind of ["order.held", "order.approved", "order.ready"] as const) {
        expect((await inbox(customer.id, kind)).some((n) => n.link === `/orders/${id}`)).toBe(true);
      }
      // By e-mail: only the approval. The outbox is written with the notification, so no row
      // now means no e-mail ever.
      await mailsArrived(customer.email, `${name} was approved`);
      expect(await outbox(customer.id, `${name} waits for approval`)).toEqual([]);
      expect(await outbox(customer.id, `${name} is ready`)).toEqual([]);
      // The approver's choice is theirs: they still get theirs.
      await mailsArrived(approver.email, `${name} waits for your approval`);
    } finally {
      await invoke(preferencesRoute.PATCH, "PATCH", prefs, { token: token.customer, body: { email: { "order.held": true, "order.ready": true } } });
    }
  });
});

describe("a mail server that is down delays mail, it does not lose it", () => {
  /** The outbox row of the e-mail with this subject, once `done` holds for it. */
  const row = (userId: string, subject: string, done: (r: typeof mails.$inferSelect) => boolean, what: string) =>
    waitFor(async () => (await outbox(userId, subject))[0], (r) => Boolean(r) && done(r), { what });

  it("retries with backoff while it is down and sends once it is back", async () => {
    await sink().close();
    const { id, name } = await heldOrder();
    expect((await reject(id, "closed for the holidays")).status).toBe(200);
    const subject = `${name} was rejected`;
    const retried = await row(customer.id, subject, (r) => r.attempts >= 2, "two failed attempts");
    expect(retried).toMatchObject({ status: "pending", error: expect.stringMatching(/ECONNREFUSED/) });
    await openSink();
    await row(customer.id, subject, (r) => r.status === "sent", "the mail to be sent");
    const [mail] = await mailsArrived(customer.email, subject);
    expect(mail.text).toContain("closed for the holidays");
  });

  it("sends it even when Redis lost the queue's data meanwhile: the pending row is enqueued again", async () => {
    await sink().close();
    const { id, name } = await heldOrder();
    expect((await reject(id, "lab is full")).status).toBe(200);
    const subject = `${name} was rejected`;
    await row(customer.id, subject, (r) => r.attempts >= 1, "a failed attempt");
    expect(await deleteRedisPrefix(env.REDIS_PREFIX)).toBeGreaterThan(0);
    await openSink();
    await row(customer.id, subject, (r) => r.status === "sent", "the mail to be sent after Redis lost its job");
    expect(received().filter((m) => m.subject === subject)).toHaveLength(1);
  });

  it("a recipient the server refuses fails at once, with the server's answer, in the audit log", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const created = await createUser(db, null, { email: `${unique("nobody")}@portal.test`, name: "No Body", role: "customer", password: "password-for-tests", group: group.slug });
    const nobody = { id: created.id, role: created.role, email: created.email };
    const { name } = await heldOrder(nobody);
    const failed = await row(nobody.id, `${name} waits for approval`, (r) => r.status === "failed", "the refused mail to fail");
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(/550 5\.1\.1 <nobody-[a-f0-9]+@portal\.test>: no such mailbox/);
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "mail.failed"), eq(auditEvents.targetId, failed.id)));
    expect(audit.data).toMatchObject({ to: nobody.email, kind: "order.held", attempts: 1, error: failed.error });
  });

  it("the last attempt, still failing, marks the mail failed with the error", async () => {
    await sink().close();
    try {
      const [mailId] = await queueMail(db, [{ userId: customer.id, kind: "order.ready", to: customer.email, subject: "last try", text: "x" }]);
      await expect(deliverMail(db, mailId, { lastAttempt: true })).rejects.toThrow(/ECONNREFUSED/);
      const [failed] = await db.select().from(mails).where(eq(mails.id, mailId));
      expect(failed).toMatchObject({ status: "failed", attempts: 1, error: expect.stringMatching(/ECONNREFUSED/) });
      expect(await db.select().from(auditEvents).where(and(eq(auditEvents.action, "mail.failed"), eq(auditEvents.targetId, mailId)))).toHaveLength(1);
      // A failed mail is not sent again by a later job.
      expect(await deliverMail(db, mailId, { lastAttempt: false })).toBe("skipped");
    } finally {
      await openSink();
    }
  });
});
