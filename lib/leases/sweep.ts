import { and, eq, inArray, notExists, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { courseMachines, courses, environments, leaseEvents, orders, users, type LeaseEventKind, type NotificationEvent } from "../db/schema";
import { driverFor } from "../pipeline/drivers";
import { deploySpec, loadOrderContext } from "../pipeline/context";
import { startTeardown } from "../pipeline/engine";
import { announce } from "../pipeline/events";
import { writeAudit } from "../audit/write";
import { env } from "../env";
import { dispatchMail } from "../mail/outbox";
import { leaseQuery, type LeaseRow } from "./queries";
import { notify } from "../notifications/queries";
import { daysLeft, dueLeaseActions, formatLeaseTime as fmt, graceEnd, type LeaseAction } from "./rules";
import { DAY_MS } from "../time";

export type SweepReport = Record<LeaseAction, string[]>;

type Lease = LeaseRow & { orderStatus: "ready" | "expiring" };
/** Whom a lease message goes to, and about what. */
type Recipient = Pick<LeaseRow, "environmentId" | "orderId" | "ownerId" | "owner" | "ownerName">;

/**
 * Records an event once per lease end, with the owner's in-app notification and e-mail (in
 * the outbox) in the same commit; the e-mail is enqueued after it. A second sweep finds the
 * event and records nothing.
 */
async function recordOnce(
  db: Db,
  lease: Recipient,
  kind: LeaseEventKind,
  leaseEnd: Date,
  message: { title: string; body: string; email?: NotificationEvent },
): Promise<boolean> {
  const recorded = await db.transaction(async (tx) => {
    const [event] = await tx
      .insert(leaseEvents)
      .values({ environmentId: lease.environmentId, orderId: lease.orderId, kind, leaseEnd })
      .onConflictDoNothing()
      .returning({ id: leaseEvents.id });
    if (!event) return null;
    const mailed = await notify(
      tx,
      { userId: lease.ownerId, kind: `lease.${kind}`, title: message.title, body: message.body, link: `/orders/${lease.orderId}` },
      { email: message.email },
    );
    const mailId = mailed.get(lease.ownerId) ?? null;
    await tx.update(leaseEvents).set({ email: mailId ? "pending" : message.email ? "skipped" : "none", mailId }).where(eq(leaseEvents.id, event.id));
    return { mailId };
  });
  if (!recorded) return false;
  await writeAudit(db, { actorId: null, action: `lease.${kind}`, targetType: "environment", targetId: lease.environmentId, data: { order: lease.orderId, leaseEnd: leaseEnd.toISOString() } });
  if (recorded.mailId) await dispatchMail([recorded.mailId]);
  await announce(lease.orderId, "lease");
  return true;
}

/** The recorded lease events of these environments, in one query for the whole sweep. */
async function eventsOf(db: Db, environmentIds: string[]) {
  if (environmentIds.length === 0) return [];
  return db
    .select({ environmentId: leaseEvents.environmentId, kind: leaseEvents.kind, leaseEnd: leaseEvents.leaseEnd })
    .from(leaseEvents)
    .where(inArray(leaseEvents.environmentId, environmentIds));
}

/**
 * Lab machines live until their course ends (the course sweep retires them); their students
 * get the same two warnings before that end, once each.
 */
async function courseWarnings(db: Db, now: Date, report: SweepReport) {
  const horizon = new Date(now.getTime() + 7 * DAY_MS);
  const rows = await db
    .select({
      environmentId: environments.id,
      orderId: orders.id,
      name: orders.name,
      envState: environments.state,
      startedAt: environments.createdAt,
      courseEnd: courses.endsAt,
      course: courses.name,
      ownerId: orders.userId,
      owner: users.email,
      ownerName: users.name,
    })
    .from(courseMachines)
    .innerJoin(courses, eq(courses.id, courseMachines.courseId))
    .innerJoin(orders, eq(orders.id, courseMachines.orderId))
    .innerJoin(environments, eq(environments.orderId, orders.id))
    .innerJoin(users, eq(users.id, orders.userId))
    .where(and(eq(courses.status, "active"), eq(orders.status, "ready"), sql`${courses.endsAt} <= ${horizon.toISOString()}`, sql`${courses.endsAt} > ${now.toISOString()}`));
  const events = await eventsOf(db, rows.map((r) => r.environmentId));
  for (const row of rows) {
    const done = events.filter((e) => e.environmentId === row.environmentId && e.leaseEnd.getTime() === row.courseEnd.getTime());
    const actions = dueLeaseActions(
      { orderStatus: "ready", envState: row.envState, startedAt: row.startedAt, expiresAt: row.courseEnd, done: done.map((d) => d.kind), stoppedForEarlierEnd: false },
      now,
      env.LEASE_GRACE_DAYS,
    ).filter((a): a is "warn_7d" | "warn_1d" => a === "warn_7d" || a === "warn_1d");
    for (const kind of actions) {
      const left = daysLeft(row.courseEnd, now);
      const sent = await recordOnce(db, row, kind, row.courseEnd, {
        title: `${row.name} is retired in ${left} day${left === 1 ? "" : "s"}: ${row.course} ends`,
        body: `The course ${row.course} ends on ${fmt(row.courseEnd)}; then your lab machine ${row.name} is destroyed. Copy off anything you want to keep before then.`,
        email: "lease.expiring",
      }).catch((err) => {
        console.error(`[leases] course warning for ${row.name} failed; retried at the next sweep:`, (err as Error).message);
        return false;
      });
      if (sent) report[kind].push(row.name);
    }
  }
}

async function warn(db: Db, lease: Lease, kind: "warn_7d" | "warn_1d", now: Date) {
  const left = daysLeft(lease.expiresAt, now);
  const destroyAt = graceEnd(lease.expiresAt, env.LEASE_GRACE_DAYS);
  return recordOnce(db, lease, kind, lease.expiresAt, {
    title: `${lease.name} expires in ${left} day${left === 1 ? "" : "s"}`,
    body:
      `The lease of ${lease.name} ends on ${fmt(lease.expiresAt)}. Then the environment is stopped, and on ${fmt(destroyAt)} ` +
      `it is destroyed and its addresses are freed. To keep it, extend the lease on the order's page.`,
    email: "lease.expiring",
  });
}

/** Runs the driver's action on the guest (halt to stop it, start or boot to start it again). */
async function onGuest(db: Db, lease: Lease, what: "halt" | "start") {
  const ctx = await loadOrderContext(db, lease.orderId);
  if (!ctx.host || !ctx.environment) return;
  const driver = driverFor(ctx.host.kind, db);
  const io = { signal: new AbortController().signal, log: async (line: string) => console.log(`[leases] ${lease.name}: ${line}`) };
  const spec = deploySpec(ctx);
  if (what === "halt") await driver.halt(spec, io);
  else await (driver.start ? driver.start(spec, io) : driver.boot(spec, io));
}

async function stop(db: Db, lease: Lease, now: Date) {
  // Claim first (only if the lease really ended: an extension may just have moved it).
  if (lease.orderStatus === "ready") {
    const claimed = await db
      .update(orders)
      .set({
        status: "expiring",
        reason: `lease ended ${fmt(lease.expiresAt)}: stopped; destroyed ${fmt(graceEnd(lease.expiresAt, env.LEASE_GRACE_DAYS))} unless the lease is extended`,
        updatedAt: now,
      })
      .where(
        and(
          eq(orders.id, lease.orderId),
          eq(orders.status, "ready"),
          sql`exists (select 1 from ${environments} where ${environments.id} = ${lease.environmentId} and ${environments.expiresAt} <= ${now.toISOString()})`,
        ),
      )
      .returning({ id: orders.id });
    if (claimed.length === 0) return false;
    await announce(lease.orderId, "lease");
  }
  await onGuest(db, lease, "halt");
  await db.update(environments).set({ state: "stopped" }).where(and(eq(environments.id, lease.environmentId), eq(environments.state, "running")));
  const destroyAt = graceEnd(lease.expiresAt, env.LEASE_GRACE_DAYS);
  await recordOnce(db, lease, "stopped", lease.expiresAt, {
    title: `${lease.name} was stopped: its lease ended`,
    body:
      `The lease of ${lease.name} ended on ${fmt(lease.expiresAt)} and the environment was stopped. It is destroyed on ${fmt(destroyAt)} ` +
      `(its addresses are freed then) unless you extend the lease before; an extension starts it again.`,
    email: "environment.stopped",
  });
  return true;
}

async function restart(db: Db, lease: Lease) {
  const [stopped] = await db
    .select({ leaseEnd: leaseEvents.leaseEnd })
    .from(leaseEvents)
    .where(and(eq(leaseEvents.environmentId, lease.environmentId), eq(leaseEvents.kind, "stopped")))
    .orderBy(sql`${leaseEvents.leaseEnd} desc`)
    .limit(1);
  if (!stopped) return false;
  await onGuest(db, lease, "start");
  await db.update(environments).set({ state: "running" }).where(and(eq(environments.id, lease.environmentId), eq(environments.state, "stopped")));
  return recordOnce(db, lease, "restarted", stopped.leaseEnd, {
    title: `${lease.name} is running again`,
    body: `The lease of ${lease.name} was extended to ${fmt(lease.expiresAt)}, so the environment was started again.`,
  });
}

async function retire(db: Db, lease: Lease, now: Date) {
  const claimed = await db
    .update(orders)
    .set({ status: "retiring", reason: `lease ended ${fmt(lease.expiresAt)} and the ${env.LEASE_GRACE_DAYS}-day grace period is over: destroying`, updatedAt: now })
    .where(and(eq(orders.id, lease.orderId), eq(orders.status, "expiring")))
    .returning({ id: orders.id });
  if (claimed.length === 0) return false;
  await startTeardown(db, lease.orderId);
  await recordOnce(db, lease, "retired", lease.expiresAt, {
    title: `${lease.name} is being destroyed`,
    body: `The lease of ${lease.name} ended on ${fmt(lease.expiresAt)} and the grace period is over: the environment is destroyed and its addresses are freed.`,
    email: "environment.retired",
  });
  return true;
}

/**
 * One pass of the lease keeper at time `now`: warnings, stop at expiry, restart after an
 * extension, retire after the grace period. Safe to run twice, or in two workers at once:
 * every state change is conditional and every message is recorded once per lease end.
 * Course machines are left to the course (they retire at the course's end); their students
 * are warned before it.
 */
export async function sweepLeases(db: Db, now = new Date()): Promise<SweepReport> {
  const report: SweepReport = { warn_7d: [], warn_1d: [], stop: [], restart: [], retire: [] };
  const horizon = new Date(now.getTime() + 7 * DAY_MS);
  const rows = await leaseQuery(db).where(
    and(
      inArray(orders.status, ["ready", "expiring"]),
      or(sql`${environments.expiresAt} <= ${horizon.toISOString()}`, eq(orders.status, "expiring"), eq(environments.state, "stopped")),
      notExists(db.select({ one: sql`1` }).from(courseMachines).where(eq(courseMachines.orderId, orders.id))),
    ),
  );
  const allEvents = await eventsOf(db, rows.map((r) => r.environmentId));
  for (const row of rows) {
    const lease = row as Lease;
    const events = allEvents.filter((e) => e.environmentId === lease.environmentId);
    const end = lease.expiresAt.getTime();
    const stoppedEnds = events.filter((e) => e.kind === "stopped").map((e) => e.leaseEnd.getTime());
    const restartedEnds = new Set(events.filter((e) => e.kind === "restarted").map((e) => e.leaseEnd.getTime()));
    const actions = dueLeaseActions(
      {
        orderStatus: lease.orderStatus,
        envState: lease.envState,
        startedAt: lease.startedAt,
        expiresAt: lease.expiresAt,
        done: events.filter((e) => e.leaseEnd.getTime() === end).map((e) => e.kind),
        stoppedForEarlierEnd: stoppedEnds.some((t) => t < end && !restartedEnds.has(t)),
      },
      now,
      env.LEASE_GRACE_DAYS,
    );
    for (const action of actions) {
      try {
        const did =
          action === "stop" ? await stop(db, lease, now)
          : action === "retire" ? await retire(db, lease, now)
          : action === "restart" ? await restart(db, lease)
          : await warn(db, lease, action, now);
        if (did) report[action].push(lease.name);
      } catch (err) {
        // One environment's host failing must not hold up the others; the next sweep retries.
        console.error(`[leases] ${action} of ${lease.name} failed; retried at the next sweep:`, (err as Error).message);
      }
    }
  }
  await courseWarnings(db, now, report);
  const done = Object.entries(report).filter(([, names]) => names.length).map(([a, names]) => `${a} ${names.length}`);
  if (done.length) console.log(`[leases] sweep at ${now.toISOString()}: ${done.join(", ")}`);
  return report;
}
