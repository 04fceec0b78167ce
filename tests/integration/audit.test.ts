/**
 * The audit log: append-only in the database, written by every state-changing API call with
 * who, what, from where and before/after, searchable and exported as CSV that reads back.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, gt, sql } from "drizzle-orm";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as approveRoute from "@/app/api/v1/orders/[id]/approve/route";
import * as rejectRoute from "@/app/api/v1/orders/[id]/reject/route";
import * as cancelRoute from "@/app/api/v1/orders/[id]/cancel/route";
import * as retryRoute from "@/app/api/v1/orders/[id]/retry/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as usersRoute from "@/app/api/v1/users/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import * as tokensRoute from "@/app/api/v1/tokens/route";
import * as tokenRoute from "@/app/api/v1/tokens/[id]/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import * as auditRoute from "@/app/api/v1/audit/route";
import { apiRoute, json } from "@/lib/api/handler";
import { auditActions } from "@/lib/audit/queries";
import { authOptions } from "@/lib/auth/options";
import { PEER_HEADER } from "@/lib/http/client-address";
import { parseCsv } from "@/lib/audit/csv";
import { auditEvents } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke, type Call } from "../helpers/http";
import { bootPortal, injectFailures, makeGroup, makeUser, tokenFor, unique, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor, heldCustomer: Actor, approver: Actor;
const token: Record<"admin" | "customer" | "held" | "approver", string> = {} as never;
const root = path.resolve(import.meta.dirname, "../..");

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  const held = await makeGroup(db, { autoApprove: false });
  customer = await makeUser(db, "customer", auto.slug);
  heldCustomer = await makeUser(db, "customer", held.slug);
  approver = await makeUser(db, "approver", held.slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, customer);
  token.held = await tokenFor(db, heldCustomer);
  token.approver = await tokenFor(db, approver);
  worker = await startWorkers();
});

afterAll(async () => {
  await injectFailures(db, {});
  await worker?.stop();
});

async function lastAuditId(): Promise<number> {
  const [row] = await db.select({ id: sql<number>`coalesce(max(${auditEvents.id}), 0)::int` }).from(auditEvents);
  return row.id;
}

describe("the audit table is append-only", () => {
  it("refuses UPDATE, DELETE and TRUNCATE in the database itself", async () => {
    await db.insert(auditEvents).values({ actorId: admin.id, action: "test.append", targetType: "test", data: { n: 1 } });
    const [row] = await db.select().from(auditEvents).where(eq(auditEvents.action, "test.append"));
    /** The database's own message (drizzle wraps it in "Failed query: ..."). */
    const refusal = (query: ReturnType<typeof sql>) =>
      db.execute(query).then(() => "allowed", (err: Error & { cause?: Error }) => (err.cause ?? err).message);
    expect(await refusal(sql`update audit_events set action = 'test.changed' where id = ${row.id}`)).toBe("audit_events is append-only: UPDATE refused");
    expect(await refusal(sql`delete from audit_events where id = ${row.id}`)).toBe("audit_events is append-only: DELETE refused");
    expect(await refusal(sql`truncate audit_events`)).toBe("audit_events is append-only: TRUNCATE refused");
    const [still] = await db.select().from(auditEvents).where(eq(auditEvents.id, row.id));
    expect(still).toMatchObject({ action: "test.append", data: { n: 1 } });
  });
});

describe("every state-changing call in a session leaves an audit row with actor and source", () => {
  const ip = "203.0.113.42";
  const userAgent = "audit-test/1.0 (scripted session)";
  const exercised = new Set<string>();
  /**
   * Calls a route as a browser would arrive at the portal's server (which writes the connection's
   * address into PEER_HEADER), claiming another address in X-Forwarded-For that no trusted proxy
   * vouches for; returns the call and the rows it wrote.
   */
  async function call(route: { [m: string]: unknown }, method: string, url: string, tok: string, extra: Call = {}) {
    const before = await lastAuditId();
    const res = await invoke(route[method] as never, method, url, {
      token: tok, ...extra,
      headers: { [PEER_HEADER]: ip, "x-forwarded-for": "198.51.100.9", "user-agent": userAgent, ...extra.headers },
    });
    const rows = await db.select().from(auditEvents).where(gt(auditEvents.id, before)).orderBy(auditEvents.id);
    exercised.add(`${method} ${url.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{id}").replace(/\?.*$/, "")}`);
    return { res, rows };
  }
  function expectAudited(rows: (typeof auditEvents.$inferSelect)[], action: string, actorId: string, targetId?: string) {
    const row = rows.find((r) => r.action === action);
    expect(row, `${action} in ${JSON.stringify(rows.map((r) => r.action))}`).toBeDefined();
    expect(row).toMatchObject({ actorId, sourceIp: ip, userAgent, ...(targetId ? { targetId } : {}) });
    return row!;
  }

  it("orders: create, approve, reject, cancel, retry, destroy", async () => {
    const created = await call(ordersRoute, "POST", "/api/v1/orders", token.held, { body: { image: "linux-test", flavor: "small", name: unique("aud") } });
    expect(created.res.status).toBe(201);
    const id = created.res.body.id;
    expect(expectAudited(created.rows, "order.create", heldCustomer.id, id).after).toMatchObject({ status: "pending_approval" });

    const approved = await call(approveRoute, "POST", `/api/v1/orders/${id}/approve`, token.approver, { params: { id }, body: { reason: "ok" } });
    expect(approved.res.status).toBe(200);
    const a = expectAudited(approved.rows, "order.approve", approver.id, id);
    expect([a.before, a.after]).toEqual([{ status: "pending_approval" }, expect.objectContaining({ status: "queued" })]);
    await waitForOrder(db, id);

    const destroyed = await call(destroyRoute, "POST", `/api/v1/orders/${id}/destroy`, token.held, { params: { id } });
    expect(destroyed.res.status).toBe(200);
    expect(expectAudited(destroyed.rows, "order.destroy", heldCustomer.id, id)).toMatchObject({ before: { status: "ready" }, after: { status: "retiring" } });
    expectAudited(destroyed.rows, "environment.destroy", heldCustomer.id, id);
    await waitForOrder(db, id, ["retired"]);

    const second = await call(ordersRoute, "POST", "/api/v1/orders", token.held, { body: { image: "linux-test", flavor: "small", name: unique("aud") } });
    const id2 = second.res.body.id;
    const rejected = await call(rejectRoute, "POST", `/api/v1/orders/${id2}/reject`, token.approver, { params: { id: id2 }, body: { reason: "not this week" } });
    expect(rejected.res.status).toBe(200);
    expect(expectAudited(rejected.rows, "order.reject", approver.id, id2).after).toMatchObject({ status: "rejected" });

    await injectFailures(db, { glue: 1 });
    const third = await call(ordersRoute, "POST", "/api/v1/orders", token.customer, { body: { image: "linux-test", flavor: "small", name: unique("aud") } });
    const id3 = third.res.body.id;
    await waitForOrder(db, id3);
    const retried = await call(retryRoute, "POST", `/api/v1/orders/${id3}/retry`, token.customer, { params: { id: id3 } });
    expect(retried.res.status).toBe(200);
    expect(expectAudited(retried.rows, "order.retry", customer.id, id3)).toMatchObject({ before: { status: "failed" }, after: { status: "queued" } });
    await waitForOrder(db, id3);

    await injectFailures(db, {});
    const fourth = await call(ordersRoute, "POST", "/api/v1/orders", token.held, { body: { image: "linux-test", flavor: "small", name: unique("aud") } });
    const id4 = fourth.res.body.id;
    const cancelled = await call(cancelRoute, "POST", `/api/v1/orders/${id4}/cancel`, token.held, { params: { id: id4 } });
    expect(cancelled.res.status).toBe(200);
    expect(expectAudited(cancelled.rows, "order.cancel", heldCustomer.id, id4)).toMatchObject({ before: { status: "pending_approval" }, after: { status: "cancelled" } });
  });

  it("admin changes: users, networks, images, hosts", async () => {
    const user = await call(usersRoute, "POST", "/api/v1/users", token.admin, {
      body: { email: `${unique("new")}@portal.test`, name: "New Person", role: "customer", password: "long-enough-password" },
    });
    expect(user.res.status).toBe(201);
    const u = expectAudited(user.rows, "user.create", admin.id, user.res.body.id);
    expect(JSON.stringify(u)).not.toContain("long-enough-password");

    const slug = unique("audnet");
    const net = await call(networksRoute, "POST", "/api/v1/networks", token.admin, {
      body: { slug, name: "Audit net", purpose: "service", cidr: "10.77.0.0/24", gateway: "10.77.0.1", bridge: "br7" },
    });
    expect(net.res.status, JSON.stringify(net.res.body)).toBe(201);
    expectAudited(net.rows, "network.create", admin.id, net.res.body.id);

    const img = await call(imagesRoute, "POST", "/api/v1/images", token.admin, {
      body: { slug: unique("audimg"), name: "Audit image", os: "linux", version: "Debian 12", hostKinds: ["sim"], source: "clone", purpose: "test", sizeMb: 512 },
    });
    expect(img.res.status, JSON.stringify(img.res.body)).toBe(201);
    expectAudited(img.rows, "image.create", admin.id, img.res.body.id);

    const { body } = await invoke(hostsRoute.GET, "GET", "/api/v1/hosts", { token: token.admin });
    const host = body.hosts.find((h: { kind: string }) => h.kind === "sim");
    const patched = await call(hostRoute, "PATCH", `/api/v1/hosts/${host.id}`, token.admin, { params: { id: host.id }, body: { state: "draining" } });
    expect(patched.res.status).toBe(200);
    expect(expectAudited(patched.rows, "host.update", admin.id, host.id)).toMatchObject({ before: { state: "active" }, after: { state: "draining" } });
    await call(hostRoute, "PATCH", `/api/v1/hosts/${host.id}`, token.admin, { params: { id: host.id }, body: { state: "active" } });
  });

  it("own settings: tokens and SSH key, with no secret in the log", async () => {
    const created = await call(tokensRoute, "POST", "/api/v1/tokens", token.customer, { body: { name: "laptop" } });
    expect(created.res.status).toBe(201);
    const row = expectAudited(created.rows, "token.create", customer.id, created.res.body.id);
    expect(JSON.stringify(row)).not.toContain(created.res.body.token);
    const revoked = await call(tokenRoute, "DELETE", `/api/v1/tokens/${created.res.body.id}`, token.customer, { params: { id: created.res.body.id } });
    expect(revoked.res.status).toBe(204);
    expectAudited(revoked.rows, "token.revoke", customer.id, created.res.body.id);

    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILPlaFvZ5rFXdMUgRAPZwMbePo4z9GWNyjlo35zmdBdN alice@laptop";
    const put = await call(sshKeyRoute, "PUT", "/api/v1/me/ssh-key", token.customer, { body: { sshPublicKey: key } });
    expect(put.res.status).toBe(200);
    expect(expectAudited(put.rows, "user.ssh_key.set", customer.id).after).toEqual({ fingerprint: put.res.body.fingerprint });
    const del = await call(sshKeyRoute, "DELETE", "/api/v1/me/ssh-key", token.customer);
    expect(del.res.status).toBe(204);
    expect(expectAudited(del.rows, "user.ssh_key.remove", customer.id)).toMatchObject({ before: { fingerprint: put.res.body.fingerprint }, after: { fingerprint: null } });
  });

  it("the session touched every state-changing route; each goes through apiRoute, which records a change a route forgot", async () => {
    // Routes with no signed-in caller (a one-time token in the body is the proof) go through
    // publicRoute; the query behind each writes its own audit event (checked where those
    // routes are tested).
    const publicRoutes = new Set(["POST /api/v1/invitations/accept"]);
    const onDisk: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name === "route.ts") {
          const source = readFileSync(full, "utf8");
          const url = "/" + path.relative(path.join(root, "app"), dir).split(path.sep).join("/").replace(/\[(\w+)\]/g, "{$1}");
          for (const m of ["POST", "PUT", "PATCH", "DELETE"]) {
            if (new RegExp(`export (const|async function) ${m}\\b`).test(source)) {
              onDisk.push(`${m} ${url}`);
              const wrapper = publicRoutes.has(`${m} ${url}`) ? "publicRoute" : "apiRoute";
              expect(source, `${m} ${url}`).toMatch(new RegExp(`export const ${m} = ${wrapper}\\(`));
            }
          }
        }
      }
    };
    walk(path.join(root, "app", "api", "v1"));
    const mine = onDisk.filter((r) => exercised.has(r));
    // Routes other areas add are covered by apiRoute's fallback record (checked below).
    expect(mine.length).toBeGreaterThanOrEqual(14);

    const forgetful = apiRoute({}, async () => json({ done: true }));
    const before = await lastAuditId();
    const res = await invoke(forgetful, "POST", "/api/v1/somewhere/new", { token: token.customer, headers: { [PEER_HEADER]: ip, "user-agent": userAgent } });
    expect(res.status).toBe(200);
    const rows = await db.select().from(auditEvents).where(gt(auditEvents.id, before));
    expect(rows).toEqual([expect.objectContaining({ action: "api.post", actorId: customer.id, targetId: "/api/v1/somewhere/new", sourceIp: ip, userAgent })]);
  });
});

describe("sign-ins", () => {
  type Authorize = (c: Record<string, string>, req: { headers: Record<string, string> }) => Promise<unknown>;
  const authorize = (authOptions.providers[0] as unknown as { options: { authorize: Authorize } }).options.authorize;

  it("a sign-in and a wrong password are on record with the address they came from", async () => {
    const headers = { [PEER_HEADER]: "192.0.2.77", "x-forwarded-for": "198.51.100.1", "user-agent": "Browser/9" };
    const before = await lastAuditId();
    expect(await authorize({ email: customer.email, password: "not-the-password" }, { headers })).toBeNull();
    expect(await authorize({ email: customer.email, password: "password-for-tests" }, { headers })).toMatchObject({ id: customer.id });
    const rows = await db.select().from(auditEvents).where(gt(auditEvents.id, before)).orderBy(auditEvents.id);
    expect(rows.map((r) => [r.action, r.actorId, r.targetId, r.sourceIp, r.userAgent])).toEqual([
      ["auth.sign_in_failed", null, customer.id, "192.0.2.77", "Browser/9"],
      ["auth.sign_in", customer.id, customer.id, "192.0.2.77", "Browser/9"],
    ]);
    expect(JSON.stringify(rows)).not.toContain("not-the-password");
  });
});

describe("searching and exporting the log", () => {
  const list = (query: string, tok = token.admin) => invoke(auditRoute.GET, "GET", `/api/v1/audit${query}`, { token: tok });

  it("filters by actor, action, target, free text and time, newest first, paged", async () => {
    const byActor = await list(`?actor=${encodeURIComponent(approver.email)}`);
    expect(byActor.status).toBe(200);
    expect(byActor.body.events.length).toBeGreaterThanOrEqual(2);
    expect(byActor.body.events.every((e: { actorEmail: string }) => e.actorEmail === approver.email)).toBe(true);

    const approvals = await list("?action=order.approve");
    expect(approvals.body.events.map((e: { action: string }) => e.action)).toEqual(Array(approvals.body.total).fill("order.approve"));
    const orderActions = await list("?action=order");
    expect(new Set(orderActions.body.events.map((e: { action: string }) => e.action.split(".")[0]))).toEqual(new Set(["order"]));

    const target = approvals.body.events[0].targetId;
    const onTarget = await list(`?target=${target}`);
    expect(onTarget.body.events.every((e: { targetId: string }) => e.targetId === target)).toBe(true);
    expect(onTarget.body.events.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(["order.create", "order.approve", "order.destroy"]));

    const text = await list("?q=not%20this%20week");
    expect(text.body.events.map((e: { action: string }) => e.action)).toEqual(["order.reject"]);

    const future = await list(`?from=${new Date(Date.now() + 3600_000).toISOString()}`);
    expect(future.body).toMatchObject({ events: [], total: 0, hasMore: false });

    const all = await list("?perPage=5");
    expect(all.body.total).toBeGreaterThan(10);
    const page2 = await list("?perPage=5&page=2");
    expect(page2.body.events).toHaveLength(5);
    expect(page2.body.events[0].id).toBeLessThan(all.body.events[4].id);
    expect(all.body.hasMore).toBe(true);
    expect(all.body.totalCapped).toBe(false);
    // The next page by cursor is the same as by number.
    const byCursor = await list(`?perPage=5&cursor=${all.body.nextCursor}`);
    expect(byCursor.body.events.map((e: { id: number }) => e.id)).toEqual(page2.body.events.map((e: { id: number }) => e.id));
    expect((await list("?cursor=nonsense")).status).toBe(422);
    // The filter's suggestions: every action recorded, once each, in order.
    const recorded = (await db.selectDistinct({ action: auditEvents.action }).from(auditEvents)).map((r) => r.action).sort();
    expect(await auditActions(db)).toEqual(recorded);
    expect(recorded).toContain("order.approve");
    const times = all.body.events.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it("names each target as people know it: an order's name, a host's name, a user's e-mail, in one statement a page", async () => {
    const name = unique("named");
    const placed = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: "linux-test", flavor: "small", name } });
    expect(placed.status).toBe(201);
    const { body } = await invoke(hostsRoute.GET, "GET", "/api/v1/hosts", { token: token.admin });
    const host = body.hosts.find((h: { kind: string }) => h.kind === "sim");
    await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${host.id}`, { token: token.admin, params: { id: host.id }, body: { maxConcurrency: 3 } });

    const statements: string[] = [];
    const spy = (db as unknown as { $client: { query: (...args: unknown[]) => unknown } }).$client;
    const query = spy.query.bind(spy);
    spy.query = (...args: unknown[]) => {
      statements.push(typeof args[0] === "string" ? args[0] : String((args[0] as { text?: string }).text));
      return query(...args);
    };
    let page;
    try {
      page = await list("?perPage=100");
    } finally {
      spy.query = query;
    }
    const events = page.body.events as { action: string; targetType: string; targetId: string; targetName: string | null }[];
    expect(events.find((e) => e.action === "order.create" && e.targetId === placed.body.id)?.targetName).toBe(name);
    expect(events.find((e) => e.action === "host.update" && e.targetId === host.id)?.targetName).toBe(host.name);
    expect(events.filter((e) => e.targetType === "user" && e.targetId === customer.id).map((e) => e.targetName)).toContain(customer.email);
    expect(events.filter((e) => e.targetType === "audit_log").every((e) => e.targetName === null)).toBe(true);
    // The page, its count and the names: three reads, whatever the page holds (the worker of
    // this process may write audit events, or place the order with a union of its own, meanwhile:
    // those are not the page's; the names are one union of `select <type>::text as type, ...`).
    const reads = statements.filter((q) => /^\s*(select|with)\b/i.test(q) && /audit_events|::text as type\b/i.test(q));
    expect(reads, reads.join("\n")).toHaveLength(3);
  });

  it("refuses non-admins and bad filters", async () => {
    expect((await list("", token.customer)).status).toBe(403);
    expect((await list("", token.approver)).status).toBe(403);
    const bad = await list("?from=2026-13-45&page=0");
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields).sort()).toEqual(["from", "page"]);
  });

  it("exports CSV that parses back to the same rows as the JSON, with formulas defused", async () => {
    // An order name cannot start with "=", but a user agent can: the export must not run it.
    await invoke(tokensRoute.POST, "POST", "/api/v1/tokens", { token: token.customer, body: { name: "csv, \"quoted\"" }, headers: { "user-agent": "=HYPERLINK(\"http://x\")", [PEER_HEADER]: "192.0.2.1" } });
    const filters = `?actor=${encodeURIComponent(customer.email)}`;
    const res = await invoke(auditRoute.GET, "GET", `/api/v1/audit${filters}&format=csv`, { token: token.admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const [header, ...rows] = parseCsv(res.body as unknown as string);
    expect(header).toEqual(["id", "at", "actor_id", "actor_email", "action", "target_type", "target_id", "source_ip", "user_agent", "data", "before", "after"]);
    const jsonRows = (await list(`${filters}&perPage=500`)).body.events;
    expect(rows).toHaveLength(jsonRows.length);
    rows.forEach((r, i) => {
      const e = jsonRows[i];
      const cells = Object.fromEntries(header.map((h, j) => [h, r[j]]));
      expect(Number(cells.id)).toBe(e.id);
      expect(cells.at).toBe(e.at);
      expect([cells.actor_email, cells.action, cells.target_type, cells.target_id, cells.source_ip]).toEqual([e.actorEmail, e.action, e.targetType, e.targetId ?? "", e.sourceIp ?? ""]);
      expect(JSON.parse(cells.data)).toEqual(e.data);
      expect(cells.before ? JSON.parse(cells.before) : null).toEqual(e.before);
      expect(cells.user_agent).toBe(e.userAgent?.startsWith("=") ? `'${e.userAgent}` : (e.userAgent ?? ""));
    });
    expect(rows.some((r) => r[header.indexOf("user_agent")] === "'=HYPERLINK(\"http://x\")")).toBe(true);
    expect(rows.some((r) => r[header.indexOf("data")] === JSON.stringify({ name: 'csv, "quoted"' }))).toBe(true);
    // The export itself is on record.
    const [exported] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "audit.export"), eq(auditEvents.actorId, admin.id)));
    expect(exported.data).toMatchObject({ rows: rows.length });
  });
});
