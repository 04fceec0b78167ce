import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { count, eq } from "drizzle-orm";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as approveRoute from "@/app/api/v1/orders/[id]/approve/route";
import * as rejectRoute from "@/app/api/v1/orders/[id]/reject/route";
import * as cancelRoute from "@/app/api/v1/orders/[id]/cancel/route";
import * as eventsRoute from "@/app/api/v1/orders/[id]/events/route";
import * as usersRoute from "@/app/api/v1/users/route";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as tokensRoute from "@/app/api/v1/tokens/route";
import * as tokenRoute from "@/app/api/v1/tokens/[id]/route";
import * as catalogRoute from "@/app/api/v1/catalog/route";
import * as groupsRoute from "@/app/api/v1/groups/route";
import * as groupRoute from "@/app/api/v1/groups/[id]/route";
import * as memberRoute from "@/app/api/v1/groups/[id]/members/[userId]/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import * as auditRoute from "@/app/api/v1/audit/route";
import { apiTokens, groups, hosts, orders, users } from "@/lib/db/schema";
import { UNSTORABLE_MESSAGE } from "@/lib/validation/fields";
import { macForIp } from "@/lib/net/mac";
import { orderChannel } from "@/lib/pipeline/events";
import { inCidr } from "@/lib/net/ipv4";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor, otherCustomer: Actor, heldCustomer: Actor, approver: Actor;
const token: Record<"admin" | "customer" | "other" | "held" | "approver", string> = {} as never;

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  const held = await makeGroup(db, { autoApprove: false });
  customer = await makeUser(db, "customer", auto.slug);
  otherCustomer = await makeUser(db, "customer", auto.slug);
  heldCustomer = await makeUser(db, "customer", held.slug);
  approver = await makeUser(db, "approver", held.slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, customer);
  token.other = await tokenFor(db, otherCustomer);
  token.held = await tokenFor(db, heldCustomer);
  token.approver = await tokenFor(db, approver);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

async function orderCount() {
  const [{ n }] = await db.select({ n: count() }).from(orders);
  return n;
}

/**
 * Polls GET /api/v1/orders/:id, as an API client would, until the order reaches `status` and
 * its run has recorded its end (the order turns ready inside the last step, a moment earlier).
 */
async function pollOrder(id: string, tok: string, status: string) {
  const res = await waitFor(
    () => invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token: tok, params: { id } }),
    (r) => r.status !== 200 || r.body.status === "failed" || (r.body.status === status && r.body.run?.status !== "running"),
    { what: `order ${id} to be ${status} through the API`, timeoutMs: 30_000 },
  );
  expect(res.status).toBe(200);
  expect(res.body.status).toBe(status);
  return res.body;
}

describe("authentication", () => {
  it("answers 401 without credentials, with an unknown token and with a malformed header", async () => {
    const before = await orderCount();
    const body = { image: "linux-test", flavor: "small", name: unique("anon") };
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer ptk_not-a-real-token" }, { authorization: "Basic YWRtaW46YWRtaW4=" }, { authorization: "Bearer" }];
    for (const headers of attempts) {
      const list = await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { headers });
      expect(list.status, JSON.stringify(headers)).toBe(401);
      expect(list.body.error).toMatch(/API token/);
      const create = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { headers, body });
      expect(create.status).toBe(401);
    }
    expect(await orderCount()).toBe(before);
  });

  it("a token of a disabled user stops working", async () => {
    const someone = await makeUser(db, "customer", "default");
    const tok = await tokenFor(db, someone);
    expect((await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: tok })).status).toBe(200);
    await db.update(users).set({ disabled: true }).where(eq(users.id, someone.id));
    expect((await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: tok })).status).toBe(401);
  });

  it("creates a token, uses it, revokes it", async () => {
    const created = await invoke(tokensRoute.POST, "POST", "/api/v1/tokens", { token: token.customer, body: { name: "ci" } });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.body).toMatchObject({ name: "ci", token: expect.stringMatching(/^ptk_/), id: expect.any(String) });
    const fresh = created.body.token as string;
    const listed = await invoke(tokensRoute.GET, "GET", "/api/v1/tokens", { token: fresh });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.map((t: { id: string }) => t.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(fresh); // only the hash is kept
    // Someone else cannot revoke it.
    expect((await invoke(tokenRoute.DELETE, "DELETE", `/api/v1/tokens/${created.body.id}`, { token: token.other, params: { id: created.body.id } })).status).toBe(404);
    const revoked = await invoke(tokenRoute.DELETE, "DELETE", `/api/v1/tokens/${created.body.id}`, { token: token.customer, params: { id: created.body.id } });
    expect(revoked.status).toBe(204);
    expect((await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: fresh })).status).toBe(401);
  });
});

describe("ordering through the API", () => {
  it("POST /api/v1/orders with image and flavor slugs answers 201 {id, status}; GET shows steps and the delivered environment", async () => {
    const name = unique("api");
    const created = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", {
      token: token.customer,
      body: { image: "linux-web", flavor: "medium", name, leaseDays: 7 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "queued" });
    expect(created.headers.get("location")).toBe(`/api/v1/orders/${created.body.id}`);

    const view = await pollOrder(created.body.id, token.customer, "ready");
    expect(view).toMatchObject({
      id: created.body.id,
      name,
      status: "ready",
      leaseDays: 7,
      owner: customer.email,
      image: { slug: "linux-web" },
      flavor: { slug: "medium", vcpus: 2, memoryMb: 4096 },
    });
    expect(view.steps).toHaveLength(11);
    for (const step of view.steps) {
      expect(step).toMatchObject({ name: expect.any(String), status: "succeeded", attempt: 1 });
      expect(Date.parse(step.startedAt)).not.toBeNaN();
      expect(Date.parse(step.finishedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
    }
    const env = view.environment;
    expect(env).toMatchObject({ id: expect.any(String), hostname: name, host: expect.stringMatching(/^sim-[12]$/), state: "running" });
    expect(env.addresses).toHaveLength(2);
    for (const a of env.addresses) {
      expect(a).toMatchObject({ network: expect.stringMatching(/^(service|production)$/), ip: expect.any(String), mac: macForIp(a.ip) });
      expect(inCidr(a.ip, a.network === "service" ? "10.20.0.0/24" : "10.30.0.0/24")).toBe(true);
    }
  });

  it("refuses bad payloads with 422 and a message per field, and inserts nothing", async () => {
    const before = await orderCount();
    const cases: [unknown, Record<string, unknown>][] = [
      [{ image: "linux-test", flavor: "small", name: "Bad_Name" }, { name: [expect.stringMatching(/lowercase letters/)] }],
      [{ image: "linux-test", flavor: "small", name: unique("lease"), leaseDays: 0 }, { leaseDays: ["Lease is at least 1 day"] }],
      [{ image: "linux-test", flavor: "small", name: unique("lease"), leaseDays: 9999 }, { leaseDays: ["Lease is at most 365 days"] }],
      [{ image: "linux-test", flavor: "small", name: unique("extra"), owner: admin.id }, { owner: ["Unknown field"] }],
      [{ flavor: "small", name: unique("noimg") }, { image: [expect.any(String)] }],
      [{ image: "no-such-image", flavor: "huge", name: unique("nocat") }, { image: ['No image "no-such-image" in the catalog'], flavor: ['No size "huge" in the catalog'] }],
      [{ image: "linux-test", flavor: "small", name: unique("svcnet"), network: "service" }, { network: [expect.stringMatching(/service network; choose a production network/)] }],
    ];
    for (const [body, fields] of cases) {
      const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.fields, JSON.stringify(body)).toEqual(fields);
    }
    const notJson = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: "{name: web" });
    expect(notJson).toMatchObject({ status: 422, body: { error: "The request body is not valid JSON" } });
    expect(await orderCount()).toBe(before);
  });

  it("a name in use by a live order is a 409 with a field message", async () => {
    const name = unique("dup");
    expect((await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: "linux-test", flavor: "small", name } })).status).toBe(201);
    const before = await orderCount();
    const again = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.other, body: { image: "linux-test", flavor: "small", name } });
    expect(again.status).toBe(409);
    expect(again.body.fields).toEqual({ name: ["Name already in use"] });
    expect(await orderCount()).toBe(before);
  });

  it("lists the caller's own orders only; scope=all is for admins", async () => {
    const mine = await order(db, otherCustomer);
    const list = await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: token.customer });
    expect(list.status).toBe(200);
    expect(list.body.orders.length).toBeGreaterThan(0);
    expect(list.body.orders.every((o: { owner: string }) => o.owner === customer.email)).toBe(true);
    expect(list.body.orders.map((o: { id: string }) => o.id)).not.toContain(mine.id);
    expect((await invoke(ordersRoute.GET, "GET", "/api/v1/orders?scope=all", { token: token.customer })).status).toBe(403);
    const all = await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: token.admin });
    expect(all.body.orders.map((o: { id: string }) => o.id)).toContain(mine.id);
  });

  it("lists 50 orders a page, newest first, and says when there are more", async () => {
    const pager = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: false })).slug);
    const tok = await tokenFor(db, pager);
    const ids: string[] = [];
    for (let i = 0; i < 53; i++) ids.push((await order(db, pager, { name: unique("page") })).id);
    const first = await invoke(ordersRoute.GET, "GET", "/api/v1/orders", { token: tok });
    expect(first.body).toMatchObject({ page: 1, hasMore: true });
    expect(first.body.orders).toHaveLength(50);
    expect(first.body.orders[0].id).toBe(ids.at(-1));
    const second = await invoke(ordersRoute.GET, "GET", "/api/v1/orders?page=2", { token: tok });
    expect(second.body).toMatchObject({ page: 2, hasMore: false });
    const seen = [...first.body.orders, ...second.body.orders].map((o: { id: string }) => o.id);
    expect(new Set(seen).size).toBe(53);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect((await invoke(ordersRoute.GET, "GET", "/api/v1/orders?page=0", { token: tok })).status).toBe(422);
  });

  it("serves the catalog to any signed-in user", async () => {
    const res = await invoke(catalogRoute.GET, "GET", "/api/v1/catalog?os=solaris", { token: token.held });
    expect(res.status).toBe(200);
    expect(res.body.images.map((i: { slug: string }) => i.slug).sort()).toEqual(["solaris10-sparse", "solaris10-whole-capped"]);
    expect(res.body.flavors.map((f: { slug: string }) => f.slug)).toContain("capped-2cpu-4g");
    expect((await invoke(catalogRoute.GET, "GET", "/api/v1/catalog?os=windows", { token: token.held })).status).toBe(422);
  });
});

describe("bad input", () => {
  const rows = async () => ({
    orders: await orderCount(),
    groups: (await db.select({ n: count() }).from(groups))[0].n,
    hosts: (await db.select({ n: count() }).from(hosts))[0].n,
    tokens: (await db.select({ n: count() }).from(apiTokens))[0].n,
  });

  it("unknown fields named like built-in object members are 422 Unknown field, on every kind of route", async () => {
    const before = await rows();
    const group = await invoke(groupsRoute.POST, "POST", "/api/v1/groups", { token: token.admin, body: { constructor: 1 } });
    expect(group.status).toBe(422);
    expect(group.body.fields.constructor).toEqual(["Unknown field"]);
    const key = await invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token: token.customer, body: { toString: "x" } });
    expect(key.status).toBe(422);
    expect(key.body.fields.toString).toEqual(["Unknown field"]);
    const body = `{"image":"linux-test","flavor":"small","name":"${unique("proto")}","__proto__":{"admin":true},"hasOwnProperty":1,"valueOf":null}`;
    const created = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body });
    expect(created.status).toBe(422);
    expect(Object.keys(created.body.fields).sort()).toEqual(["__proto__", "hasOwnProperty", "valueOf"]);
    expect(Object.values(created.body.fields)).toEqual([["Unknown field"], ["Unknown field"], ["Unknown field"]]);
    const reject = await invoke(rejectRoute.POST, "POST", `/api/v1/orders/${crypto.randomUUID()}/reject`, { token: token.admin, params: { id: crypto.randomUUID() }, body: { reason: "not needed", constructor: "x" } });
    expect(reject.body.fields).toEqual({ constructor: ["Unknown field"] });
    expect(await rows()).toEqual(before);
  });

  it("a NUL or a lone surrogate anywhere (body, query, path) is a 422 naming the field", async () => {
    const before = await rows();
    const tok = await invoke(tokensRoute.POST, "POST", "/api/v1/tokens", { token: token.customer, body: { name: "a\u0000b" } });
    expect(tok).toMatchObject({ status: 422, body: { fields: { name: [UNSTORABLE_MESSAGE] } } });
    expect(tok.body.error).toMatch(/name contains a character that cannot be stored/);
    const [someGroup] = await db.select().from(groups).limit(1);
    const renamed = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${someGroup.id}`, { token: token.admin, params: { id: someGroup.id }, body: { name: "x\ud800", hostTags: ["ok", "b\udfffad"] } });
    expect(renamed).toMatchObject({ status: 422, body: { fields: { name: [UNSTORABLE_MESSAGE], "hostTags.1": [UNSTORABLE_MESSAGE] } } });
    const paired = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${someGroup.id}`, { token: token.admin, params: { id: someGroup.id }, body: { name: `${someGroup.name}` } });
    expect(paired.status).toBe(200);
    const search = await invoke(auditRoute.GET, "GET", "/api/v1/audit?q=%00", { token: token.admin });
    expect(search).toMatchObject({ status: 422, body: { fields: { q: [UNSTORABLE_MESSAGE] } } });
    const member = await invoke(memberRoute.DELETE, "DELETE", `/api/v1/groups/${someGroup.id}/members/%00`, { token: token.admin, params: { id: someGroup.id, userId: "\u0000" } });
    expect(member).toMatchObject({ status: 422, body: { fields: { userId: [UNSTORABLE_MESSAGE] } } });
    expect(await rows()).toEqual(before);
    expect((await db.select().from(groups).where(eq(groups.id, someGroup.id)))[0].name).toBe(someGroup.name);
  });

  it("a body that is not a JSON object is a 422; one without a JSON content type is a 415", async () => {
    const before = await rows();
    for (const body of ["null", "5", "[]", '"host"', "true", "[{}]"]) {
      const res = await invoke(hostsRoute.POST, "POST", "/api/v1/hosts", { token: token.admin, body });
      expect(res.status, body).toBe(422);
      expect(res.body.error, body).toBe("The request body must be a JSON object");
    }
    const order = { image: "linux-test", flavor: "small", name: unique("ctype") };
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
      const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: JSON.stringify(order), headers: { "content-type": type } });
      expect(res.status, type).toBe(415);
      expect(res.body.error).toBe("Send the body as JSON, with the header Content-Type: application/json");
    }
    expect(await rows()).toEqual(before);
    const vendor = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: JSON.stringify(order), headers: { "content-type": "application/vnd.portal+json; charset=utf-8" } });
    expect(vendor.status).toBe(201);
  });
});

describe("who may see and change what", () => {
  it("another customer's order is a 404, as is an id that does not exist or is not an id", async () => {
    const theirs = await order(db, otherCustomer);
    for (const id of [theirs.id, "00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token: token.customer, params: { id } });
      expect(res.status, id).toBe(404);
    }
    expect((await invoke(cancelRoute.POST, "POST", `/api/v1/orders/${theirs.id}/cancel`, { token: token.customer, params: { id: theirs.id } })).status).toBe(404);
    // The owner and an admin see it.
    expect((await invoke(orderRoute.GET, "GET", `/api/v1/orders/${theirs.id}`, { token: token.other, params: { id: theirs.id } })).status).toBe(200);
    expect((await invoke(orderRoute.GET, "GET", `/api/v1/orders/${theirs.id}`, { token: token.admin, params: { id: theirs.id } })).status).toBe(200);
  });

  it("an approver sees orders of the groups they approve for, not of other groups", async () => {
    const inTheirGroup = await order(db, heldCustomer);
    const elsewhere = await order(db, customer);
    const own = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${inTheirGroup.id}`, { token: token.approver, params: { id: inTheirGroup.id } });
    expect(own).toMatchObject({ status: 200, body: { owner: heldCustomer.email, status: "pending_approval" } });
    const other = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${elsewhere.id}`, { token: token.approver, params: { id: elsewhere.id } });
    expect(other.status).toBe(404);
    const approve = await invoke(approveRoute.POST, "POST", `/api/v1/orders/${elsewhere.id}/approve`, { token: token.approver, params: { id: elsewhere.id }, body: {} });
    expect(approve.status).toBe(404);
  });

  it("a customer may not approve (403) nor create users or list hosts (403)", async () => {
    const held = await order(db, heldCustomer);
    const approve = await invoke(approveRoute.POST, "POST", `/api/v1/orders/${held.id}/approve`, { token: token.held, params: { id: held.id }, body: {} });
    expect(approve.status).toBe(403);
    expect(approve.body.error).toMatch(/approver/);
    const before = await db.select({ n: count() }).from(users);
    const createUser = await invoke(usersRoute.POST, "POST", "/api/v1/users", {
      token: token.customer,
      body: { email: `${unique("x")}@portal.test`, name: "X", role: "admin", password: "password-123" },
    });
    expect(createUser.status).toBe(403);
    expect(await db.select({ n: count() }).from(users)).toEqual(before);
    expect((await invoke(hostsRoute.GET, "GET", "/api/v1/hosts", { token: token.customer })).status).toBe(403);
    expect((await invoke(orderRoute.GET, "GET", `/api/v1/orders/${held.id}`, { token: token.held, params: { id: held.id } })).body.status).toBe("pending_approval");
  });

  it("an admin creates users (201), a second time is 409, bad fields are 422", async () => {
    const email = `${unique("new")}@portal.test`;
    const body = { email, name: "New Approver", role: "approver", password: "password-123" };
    const created = await invoke(usersRoute.POST, "POST", "/api/v1/users", { token: token.admin, body });
    expect(created).toMatchObject({ status: 201, body: { email, role: "approver", group: "default" } });
    expect((await invoke(usersRoute.POST, "POST", "/api/v1/users", { token: token.admin, body })).status).toBe(409);
    const bad = await invoke(usersRoute.POST, "POST", "/api/v1/users", { token: token.admin, body: { email: "nope", name: "", role: "root", password: "short" } });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields).sort()).toEqual(["email", "name", "password", "role"]);
    const hosts = await invoke(hostsRoute.GET, "GET", "/api/v1/hosts", { token: token.approver });
    expect(hosts.status).toBe(200);
    expect(hosts.body.hosts.map((h: { name: string }) => h.name)).toEqual(["sim-1", "sim-2"]);
  });
});

describe("approvals through the API", () => {
  it("the approver sees the held order in the queue, approves it (200) and it is delivered; approving again is 409", async () => {
    const held = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.held, body: { image: "linux-test", flavor: "small", name: unique("held") } });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ status: "pending_approval", reason: expect.stringContaining("held for approval") });
    const id = held.body.id as string;
    const queue = await invoke(ordersRoute.GET, "GET", "/api/v1/orders?scope=approvals", { token: token.approver });
    expect(queue.body.orders.map((o: { id: string }) => o.id)).toContain(id);
    const approved = await invoke(approveRoute.POST, "POST", `/api/v1/orders/${id}/approve`, { token: token.approver, params: { id }, body: { reason: "course work" } });
    expect(approved).toMatchObject({ status: 200, body: { id, status: "queued" } });
    const again = await invoke(approveRoute.POST, "POST", `/api/v1/orders/${id}/approve`, { token: token.approver, params: { id }, body: {} });
    expect(again.status).toBe(409);
    await pollOrder(id, token.held, "ready");
  });

  it("a rejection needs a reason (422) and the reason is shown on the order", async () => {
    const held = await order(db, heldCustomer);
    const noReason = await invoke(rejectRoute.POST, "POST", `/api/v1/orders/${held.id}/reject`, { token: token.approver, params: { id: held.id }, body: {} });
    expect(noReason.status).toBe(422);
    expect(noReason.body.fields.reason).toHaveLength(1);
    const rejected = await invoke(rejectRoute.POST, "POST", `/api/v1/orders/${held.id}/reject`, { token: token.approver, params: { id: held.id }, body: { reason: "use the shared test server" } });
    expect(rejected).toMatchObject({ status: 200, body: { status: "rejected" } });
    const view = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${held.id}`, { token: token.held, params: { id: held.id } });
    expect(view.body).toMatchObject({ status: "rejected", reason: `rejected by ${approver.email}: use the shared test server`, final: true });
  });
});

describe("conflicts", () => {
  it("cancelling a delivered order is 409; approving an order that is not waiting is 409", async () => {
    const delivered = await order(db, customer);
    await waitForOrder(db, delivered.id, ["ready"]);
    const cancel = await invoke(cancelRoute.POST, "POST", `/api/v1/orders/${delivered.id}/cancel`, { token: token.customer, params: { id: delivered.id } });
    expect(cancel.status).toBe(409);
    expect(cancel.body.error).toMatch(/ready; it cannot be cancelled/);
    const approve = await invoke(approveRoute.POST, "POST", `/api/v1/orders/${delivered.id}/approve`, { token: token.admin, params: { id: delivered.id }, body: {} });
    expect(approve.status).toBe(409);
    const view = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${delivered.id}`, { token: token.customer, params: { id: delivered.id } });
    expect(view.body.status).toBe("ready");
  });

  it("a customer cancels an order still waiting for approval", async () => {
    const held = await order(db, heldCustomer);
    const cancel = await invoke(cancelRoute.POST, "POST", `/api/v1/orders/${held.id}/cancel`, { token: token.held, params: { id: held.id } });
    expect(cancel).toMatchObject({ status: 200, body: { status: "cancelled" } });
    const again = await invoke(cancelRoute.POST, "POST", `/api/v1/orders/${held.id}/cancel`, { token: token.held, params: { id: held.id } });
    expect(again.status).toBe(409);
  });
});

describe("live progress (server-sent events)", () => {
  it("sends the snapshot at once with SSE headers, and stops when the client goes away", async () => {
    const created = await order(db, heldCustomer);
    const abort = new AbortController();
    const res = await eventsRoute.GET(
      new Request(`http://portal.test/api/v1/orders/${created.id}/events`, { headers: { authorization: `Bearer ${token.held}` }, signal: abort.signal }),
      { params: Promise.resolve({ id: created.id }) },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const snapshots = () => [...text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]));
    while (snapshots().length === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text.startsWith("retry: 2000\n\n")).toBe(true);
    expect(snapshots()[0]).toMatchObject({ id: created.id, status: "pending_approval" });

    // A change is pushed as a new snapshot.
    await invoke(approveRoute.POST, "POST", `/api/v1/orders/${created.id}/approve`, { token: token.approver, params: { id: created.id }, body: {} });
    while (!snapshots().some((s) => s.status !== "pending_approval")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(snapshots().at(-1).status).not.toBe("pending_approval");

    abort.abort();
    // After the abort the stream ends instead of hanging (the first reads may still drain data).
    await waitFor(async () => (await reader.read()).done, (done) => done, { timeoutMs: 5_000, intervalMs: 0, what: "the event stream to end after the abort" });
    await waitForOrder(db, created.id);
  });

  it("a client that goes away before the stream has started leaves no subscription or heartbeat behind", async () => {
    const created = await order(db, heldCustomer);
    const hub = () => (globalThis as { __portalSub?: { listeners: Map<string, Set<unknown>>; redis: { subscribe(c: string): Promise<unknown>; unsubscribe(c: string): Promise<unknown> } } }).__portalSub!;
    const listeners = () => hub().listeners.get(orderChannel(created.id))?.size ?? 0;
    const abort = new AbortController();
    const res = await eventsRoute.GET(
      new Request(`http://portal.test/api/v1/orders/${created.id}/events`, { headers: { authorization: `Bearer ${token.held}` }, signal: abort.signal }),
      { params: Promise.resolve({ id: created.id }) },
    );
    expect(res.status).toBe(200);
    // Gone while the stream still waits for Redis to confirm its subscription.
    abort.abort();
    await res.body!.cancel();
    // Redis answers in order: once a later subscription is confirmed, the stream's is too.
    const later = `${orderChannel(created.id)}:later`;
    await hub().redis.subscribe(later);
    await hub().redis.unsubscribe(later);
    await waitFor(async () => listeners(), (n) => n === 0, { timeoutMs: 5_000, what: "the stream's subscription to end" });
  });

  it("another customer cannot subscribe to an order (404)", async () => {
    const created = await order(db, heldCustomer);
    const res = await invoke(eventsRoute.GET, "GET", `/api/v1/orders/${created.id}/events`, { token: token.customer, params: { id: created.id } });
    expect(res.status).toBe(404);
  });
});
