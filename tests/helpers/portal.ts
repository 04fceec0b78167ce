/**
 * The portal as the tests use it: seeded database, users of each role with unique e-mails,
 * API tokens, orders, and waiting for states. Import only from integration test files (the
 * set-up has pointed lib/env.ts at the file's own database and Redis by then).
 */
import { randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { hashPassword } from "@/lib/auth/password";
import { createApiToken } from "@/lib/auth/tokens";
import { getDb, type Db } from "@/lib/db/client";
import { createOrder, orderView } from "@/lib/orders/queries";
import type { Actor } from "@/lib/auth/actor";
import { createUser } from "@/lib/users/queries";
import { seedIfEmpty } from "@/lib/db/seed";
import { environmentActions, groups, hosts, ipAllocations, networks, orders, pipelineRuns, pipelineSteps, users, type OrderStatus, type Role } from "@/lib/db/schema";
import { env } from "@/lib/env";
import type { OrderInput } from "@/lib/orders/input";

export type { Actor };

/** Migrates and seeds the file's database (admin, default pool, sim-1/sim-2, networks, catalog). */
export async function bootPortal(): Promise<{ db: Db; admin: Actor }> {
  const db = await getDb();
  await seedIfEmpty(db, { adminEmail: env.ADMIN_EMAIL, adminPasswordHash: () => hashPassword(env.ADMIN_PASSWORD ?? "integration-admin") });
  const [admin] = await db.select().from(users).where(eq(users.email, env.ADMIN_EMAIL));
  return { db, admin: { id: admin.id, role: admin.role, email: admin.email } };
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** A group; `autoApprove` lets its customers' orders through without an approver. */
export async function makeGroup(db: Db, opts: { autoApprove: boolean; slug?: string }) {
  const slug = opts.slug ?? unique(opts.autoApprove ? "auto" : "held");
  const [group] = await db.insert(groups).values({ slug, name: `Group ${slug}`, autoApprove: opts.autoApprove }).returning();
  return group;
}

/** A user of `role` in `groupSlug` (approvers approve for it), as the actor the queries take. */
export async function makeUser(db: Db, role: Role, groupSlug: string): Promise<Actor> {
  const created = await createUser(db, null, {
    email: `${unique(role)}@portal.test`,
    name: `Test ${role}`,
    role,
    password: "password-for-tests",
    group: groupSlug,
  });
  return { id: created.id, role: created.role, email: created.email };
}

export async function tokenFor(db: Db, actor: Actor): Promise<string> {
  return (await createApiToken(db, actor.id, "tests")).token;
}

/** An order for a Linux test server; the name is unique unless given. */
export async function order(db: Db, actor: Actor, input: Partial<OrderInput> = {}) {
  return createOrder(db, actor, { image: "linux-test", flavor: "small", name: unique("env"), ...input });
}

/** Polls `read` until `done` holds (no fixed sleeps); fails with the last value seen. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? "a state"}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
    last = await read();
  }
  return last;
}

export async function orderStatus(db: Db, orderId: string): Promise<{ status: OrderStatus; reason: string | null }> {
  const [row] = await db.select({ status: orders.status, reason: orders.reason }).from(orders).where(eq(orders.id, orderId));
  return row;
}

const settled: OrderStatus[] = ["ready", "failed", "cancelled", "rejected", "retired"];

/**
 * Waits until the order is in one of `statuses` (default: a state where the pipeline stopped).
 * For those settled states it also waits for the run to record its end (a failed order's run
 * is marked failed just before the order).
 */
/** An environment action (start, stop, move, snapshot, backup…) once it has succeeded or failed. */
export async function waitForAction(db: Db, actionId: string, timeoutMs = 30_000) {
  return waitFor(
    async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, actionId)))[0]!,
    (a) => a.status === "succeeded" || a.status === "failed",
    { timeoutMs, intervalMs: 200, what: `action ${actionId}` },
  );
}

export async function waitForOrder(db: Db, orderId: string, statuses: OrderStatus[] = settled, timeoutMs = 30_000) {
  const quiet = statuses.every((s) => settled.includes(s));
  await waitFor(
    async () => ({
      ...(await orderStatus(db, orderId)),
      busyRuns: quiet
        ? (await db.select({ id: pipelineRuns.id }).from(pipelineRuns).where(and(eq(pipelineRuns.orderId, orderId), eq(pipelineRuns.status, "running")))).length
        : 0,
    }),
    (o) => statuses.includes(o.status) && o.busyRuns === 0,
    { timeoutMs, what: `order ${orderId} to be ${statuses.join("/")}` },
  );
  return orderView(db, orderId);
}

/** Steps of the order's latest provision run, in order. */
export async function provisionSteps(db: Db, orderId: string) {
  const runs = await db.select().from(pipelineRuns).where(and(eq(pipelineRuns.orderId, orderId), eq(pipelineRuns.kind, "provision")));
  if (runs.length === 0) return [];
  return db.select().from(pipelineSteps).where(inArray(pipelineSteps.runId, runs.map((r) => r.id))).orderBy(pipelineSteps.position);
}

export async function allocationsOf(db: Db, orderId: string) {
  return db
    .select({ network: networks.slug, ip: ipAllocations.ip, mac: ipAllocations.mac })
    .from(ipAllocations)
    .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
    .where(eq(ipAllocations.orderId, orderId))
    .orderBy(networks.slug);
}

/** Injects failures on every sim host: `{ glue: 1 }` fails the next glue step once per host. */
export async function injectFailures(db: Db, failSteps: Record<string, number>) {
  await db.update(hosts).set({ config: { failSteps } }).where(eq(hosts.kind, "sim"));
}
