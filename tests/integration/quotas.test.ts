/**
 * Quotas on real PostgreSQL: concurrent orders cannot pass a limit, licensed cores are
 * counted from the cap, released orders give their share back, and the refusal says the
 * numbers. Also: rules that hold or refuse with their reason, and what a group may use.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, isNull } from "drizzle-orm";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as quotasRoute from "@/app/api/v1/quotas/route";
import * as groupQuotaRoute from "@/app/api/v1/quotas/groups/[id]/route";
import * as userQuotaRoute from "@/app/api/v1/quotas/users/[id]/route";
import * as groupsRoute from "@/app/api/v1/groups/route";
import * as groupRoute from "@/app/api/v1/groups/[id]/route";
import * as membersRoute from "@/app/api/v1/groups/[id]/members/route";
import * as memberRoute from "@/app/api/v1/groups/[id]/members/[userId]/route";
import * as policiesRoute from "@/app/api/v1/policies/route";
import * as policyRoute from "@/app/api/v1/policies/[id]/route";
import * as reorderRoute from "@/app/api/v1/policies/reorder/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import { cancelOrder, orderView, rejectOrder } from "@/lib/orders/queries";
import { auditEvents, hosts, images, networks, orders, policyDecisions, quotas } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let adminToken: string;
let worker: RunningWorkers | undefined;

beforeAll(async () => {
  adminToken = await tokenFor(db, admin);
});

afterAll(async () => {
  await worker?.stop();
});

/** Changes the group's limits named in `limits` (PATCH); the others stay as they are. */
async function setGroupQuota(groupId: string, limits: Record<string, number | null>) {
  const res = await invoke(groupQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/groups/${groupId}`, { token: adminToken, params: { id: groupId }, body: limits });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

function postOrder(token: string, body: Record<string, unknown>) {
  return invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-test", flavor: "small", name: unique("q"), ...body } });
}

describe("a group's quota under concurrent orders", () => {
  it("of 10 orders fired at once against a quota of 3 environments, exactly 3 are accepted and 7 refused with the numbers", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const customers = await Promise.all(Array.from({ length: 5 }, () => makeUser(db, "customer", group.slug)));
    const tokens = await Promise.all(customers.map((c) => tokenFor(db, c)));
    await setGroupQuota(group.id, { environments: 3 });

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => postOrder(tokens[i % tokens.length], {})));
    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body.error).toBe(`Over quota: needs 1 environment, 0 of 3 left in group ${group.name}`);
      expect(r.body.fields.quota).toEqual([`needs 1 environment, 0 of 3 left in group ${group.name}`]);
    }
    const live = await db.select().from(orders).where(eq(orders.groupId, group.id));
    expect(live).toHaveLength(3);
    // Each refusal is kept as a decision by the quota, without an order.
    const quotaDecisions = await db.select().from(policyDecisions).where(and(eq(policyDecisions.groupId, group.id), eq(policyDecisions.ruleKey, "quota")));
    expect(quotaDecisions).toHaveLength(7);
    expect(quotaDecisions.every((d) => d.orderId === null && d.outcome === "refuse")).toBe(true);
  });

  it("counts licensed cores from the CPU cap of licensed images only", async () => {
    const group = await makeGroup(db, { autoApprove: true });
    const customer = await makeUser(db, "customer", group.slug);
    const token = await tokenFor(db, customer);
    await setGroupQuota(group.id, { licensedCores: 5 });
    const capped = { image: "solaris10-whole-capped", flavor: "capped-2cpu-4g" }; // 4 vCPUs capped at 2: 2 licensed cores
    expect((await postOrder(token, capped)).status).toBe(201);
    expect((await postOrder(token, capped)).status).toBe(201);
    const third = await postOrder(token, capped);
    expect(third.status).toBe(409);
    expect(third.body.error).toBe(`Over quota: needs 2 licensed cores, 1 of 5 left in group ${group.name}`);
    // A licensed image without a cap counts all its vCPUs; unlicensed images count none.
    const uncapped = await postOrder(token, { image: "solaris10-whole-capped", flavor: "small" });
    expect(uncapped.status).toBe(201);
    expect((await postOrder(token, { image: "linux-db", flavor: "large" })).status).toBe(201);

    const mine = await invoke(quotasRoute.GET, "GET", "/api/v1/quotas", { token });
    expect(mine.status).toBe(200);
    const g = mine.body.groups.find((x: { id: string }) => x.id === group.id);
    expect(g.limit.licensedCores).toBe(5);
    expect(g.used).toMatchObject({ environments: 4, licensedCores: 5, vcpus: 4 + 4 + 1 + 4 });
    expect(g.left).toMatchObject({ licensedCores: 0, environments: null });
    expect(mine.body.user.used.environments).toBe(4);
  });

  it("gives a cancelled or rejected order's share back; a pending one keeps it", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const customer = await makeUser(db, "customer", group.slug);
    const approver = await makeUser(db, "approver", group.slug);
    await setGroupQuota(group.id, { vcpus: 4 });
    const a = await order(db, customer, { flavor: "medium" });
    const b = await order(db, customer, { flavor: "medium" });
    expect(a.status).toBe("pending_approval");
    await expect(order(db, customer, { flavor: "small" })).rejects.toMatchObject({ status: 409, message: `Over quota: needs 1 vCPU, 0 of 4 left in group ${group.name}` });
    await cancelOrder(db, customer, a.id);
    await rejectOrder(db, approver, b.id, "not this week");
    expect((await order(db, customer, { flavor: "large" })).status).toBe("pending_approval");
  });

  it("limits a user across groups with their own quota", async () => {
    const one = await makeGroup(db, { autoApprove: true });
    const two = await makeGroup(db, { autoApprove: true });
    const customer = await makeUser(db, "customer", one.slug);
    const res = await invoke(membersRoute.PUT, "PUT", `/api/v1/groups/${two.id}/members`, { token: adminToken, params: { id: two.id }, body: { email: customer.email, role: "customer" } });
    expect(res.status).toBe(200);
    const put = await invoke(userQuotaRoute.PUT, "PUT", `/api/v1/quotas/users/${customer.id}`, { token: adminToken, params: { id: customer.id }, body: { environments: 1, vcpus: null, memoryGb: null, diskGb: null, licensedCores: null } });
    expect(put.status).toBe(200);
    expect(put.body.limits).toEqual({ environments: 1, vcpus: null, memoryGb: null, diskGb: null, licensedCores: null });
    const token = await tokenFor(db, customer);
    expect((await postOrder(token, { group: one.slug })).status).toBe(201);
    const second = await postOrder(token, { group: two.slug });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe(`Over quota: needs 1 environment, 0 of 1 left for ${customer.email}`);
  });

  it("holds a user's own quota when their orders race in two groups at once", async () => {
    const one = await makeGroup(db, { autoApprove: false });
    const two = await makeGroup(db, { autoApprove: false });
    const customer = await makeUser(db, "customer", one.slug);
    await invoke(membersRoute.PUT, "PUT", `/api/v1/groups/${two.id}/members`, { token: adminToken, params: { id: two.id }, body: { email: customer.email, role: "customer" } });
    expect((await invoke(userQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/users/${customer.id}`, { token: adminToken, params: { id: customer.id }, body: { vcpus: 4 } })).status).toBe(200);
    const token = await tokenFor(db, customer);
    // Sixteen medium orders (2 vCPUs each), eight per group, at once: two fit.
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => postOrder(token, { flavor: "medium", group: i % 2 ? one.slug : two.slug })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    const refused = results.filter((r) => r.status !== 201);
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set([409]));
    expect(new Set(refused.map((r) => r.body.error))).toEqual(new Set([`Over quota: needs 2 vCPUs, 0 of 4 left for ${customer.email}`]));
  });

  it("lets only admins set quotas, and says which field is wrong", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const customer = await makeUser(db, "customer", group.slug);
    const token = await tokenFor(db, customer);
    const denied = await invoke(groupQuotaRoute.PUT, "PUT", `/api/v1/quotas/groups/${group.id}`, { token, params: { id: group.id }, body: { environments: 100 } });
    expect(denied.status).toBe(403);
    const bad = await invoke(groupQuotaRoute.PUT, "PUT", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { environments: -2, vcpus: "many", memoryGb: null, diskGb: null, licensedCores: null } });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields).sort()).toEqual(["environments", "vcpus"]);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "quota.set"), eq(auditEvents.targetId, group.id)));
    expect(audit).toHaveLength(0);
  });
});

describe("setting limits", () => {
  const limitsOf = async (groupId: string) => (await db.select().from(quotas).where(eq(quotas.groupId, groupId)))[0];

  it("a PUT needs every limit as a whole number or null: {}, an empty body or coerced values change nothing", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const all = { environments: 3, vcpus: 8, memoryGb: 16, diskGb: 200, licensedCores: null };
    const put = (body: unknown) => invoke(groupQuotaRoute.PUT, "PUT", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body });
    expect((await put(all)).body.limits).toEqual(all);
    const before = await limitsOf(group.id);
    const emptyBody = await invoke(groupQuotaRoute.PUT, "PUT", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id } });
    expect(emptyBody.status).toBe(422);
    expect(Object.keys(emptyBody.body.fields).sort()).toEqual(["diskGb", "environments", "licensedCores", "memoryGb", "vcpus"]);
    const empty = await put({});
    expect(empty.status).toBe(422);
    expect(empty.body.fields.environments).toEqual(["Environments: give a whole number or null (no limit)"]);
    for (const value of [true, [], "5", "", {}, 1.5, -1]) {
      const res = await put({ ...all, vcpus: value });
      expect(res.status, JSON.stringify(value)).toBe(422);
      expect(Object.keys(res.body.fields), JSON.stringify(value)).toEqual(["vcpus"]);
    }
    expect(await limitsOf(group.id)).toEqual(before);
    const userPut = await invoke(userQuotaRoute.PUT, "PUT", `/api/v1/quotas/users/${admin.id}`, { token: adminToken, params: { id: admin.id }, body: { environments: true } });
    expect(userPut.status).toBe(422);
    expect((await invoke(userQuotaRoute.GET, "GET", `/api/v1/quotas/users/${admin.id}`, { token: adminToken, params: { id: admin.id } })).body.limits.environments).toBeNull();
  });

  it("a PATCH changes only the limits sent, and needs at least one", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    await setGroupQuota(group.id, { environments: 3, vcpus: 8 });
    const patched = await setGroupQuota(group.id, { vcpus: null, diskGb: 50 });
    expect(patched.limits).toEqual({ environments: 3, vcpus: null, memoryGb: null, diskGb: 50, licensedCores: null });
    const nothing = await invoke(groupQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: {} });
    expect(nothing.status).toBe(422);
    const coerced = await invoke(groupQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { environments: "5" } });
    expect(coerced.status).toBe(422);
    expect((await limitsOf(group.id))).toMatchObject({ environments: 3, vcpus: null, diskGb: 50 });
  });
});

describe("rules that explain themselves", () => {
  it("holds, refuses and approves by the first matching rule, and stores which rule decided", async () => {
    const group = await makeGroup(db, { autoApprove: true });
    const student = await makeUser(db, "student", group.slug);
    const customer = await makeUser(db, "customer", group.slug);
    const [solarisDb] = await db.select().from(images).where(eq(images.slug, "solaris10-whole-capped"));
    const create = (body: Record<string, unknown>) => invoke(policiesRoute.POST, "POST", "/api/v1/policies", { token: adminToken, body });

    const refuse = await create({ name: "No licensed Solaris for students", outcome: "refuse", conditions: { os: "solaris", purposes: ["database"], roles: ["student"], groups: [group.id] } });
    expect(refuse.status, JSON.stringify(refuse.body)).toBe(201);
    expect(refuse.body.explanation).toBe(`refused: Solaris database images are not available to students in group ${group.name}`);
    const hold = await create({ name: "Long leases", outcome: "hold", conditions: { leaseDaysOver: 30, groups: [group.id] } });
    expect(hold.body.explanation).toBe(`held: leases over 30 days need approval in group ${group.name}`);

    const studentToken = await tokenFor(db, student);
    const refused = await postOrder(studentToken, { image: solarisDb.slug, flavor: "capped-2cpu-4g" });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(`refused: Solaris database images are not available to students in group ${group.name}`);
    const [decision] = await db.select().from(policyDecisions).where(and(eq(policyDecisions.userId, student.id), isNull(policyDecisions.orderId)));
    expect(decision).toMatchObject({ ruleId: refuse.body.id, ruleName: "No licensed Solaris for students", outcome: "refuse" });

    const long = await order(db, customer, { leaseDays: 60 });
    expect(long).toMatchObject({ status: "pending_approval", reason: `held: leases over 30 days need approval in group ${group.name}` });
    const view = await orderView(db, long.id);
    expect(view.policy).toMatchObject({ outcome: "hold", rule: "Long leases", ruleKey: hold.body.id });
    // No rule matches a short lease: the group's default (auto-approve) applies.
    const short = await order(db, customer, { leaseDays: 7 });
    expect(short).toMatchObject({ status: "queued", reason: `auto-approved: group ${group.name} approves orders automatically` });

    // Moving the hold rule first changes nothing for the student's Solaris order of a short lease...
    const reordered = await invoke(reorderRoute.POST, "POST", "/api/v1/policies/reorder", { token: adminToken, body: { ids: [hold.body.id, refuse.body.id] } });
    expect(reordered.status).toBe(200);
    expect(reordered.body.rules.map((r: { id: string }) => r.id)).toEqual([hold.body.id, refuse.body.id]);
    // ...but a long one is now held by the first rule instead of refused.
    const heldFirst = await postOrder(studentToken, { image: solarisDb.slug, flavor: "capped-2cpu-4g", leaseDays: 60 });
    expect(heldFirst.status).toBe(201);
    expect(heldFirst.body.status).toBe("pending_approval");

    // Disabled and deleted rules no longer decide.
    const disabled = await invoke(policyRoute.PATCH, "PATCH", `/api/v1/policies/${hold.body.id}`, { token: adminToken, params: { id: hold.body.id }, body: { enabled: false } });
    expect(disabled.status).toBe(200);
    // Only what was sent changes.
    expect(disabled.body).toMatchObject({ enabled: false, outcome: "hold", conditions: { leaseDaysOver: 30, groups: [group.id] }, explanation: hold.body.explanation });
    expect((await order(db, customer, { leaseDays: 60 })).status).toBe("queued");
    expect((await invoke(policyRoute.DELETE, "DELETE", `/api/v1/policies/${refuse.body.id}`, { token: adminToken, params: { id: refuse.body.id } })).status).toBe(204);
    expect((await postOrder(studentToken, { image: solarisDb.slug, flavor: "capped-2cpu-4g" })).status).toBe(201);
    expect((await invoke(policyRoute.DELETE, "DELETE", `/api/v1/policies/${hold.body.id}`, { token: adminToken, params: { id: hold.body.id } })).status).toBe(204);
    const actions = (await db.select({ action: auditEvents.action }).from(auditEvents)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["policy.create", "policy.reorder", "policy.update", "policy.delete", "order.refuse"]));
  });

  it("refuses a reorder that does not list every rule once", async () => {
    const one = await invoke(policiesRoute.POST, "POST", "/api/v1/policies", { token: adminToken, body: { name: "Big sizes", outcome: "hold", conditions: { vcpusOver: 64 } } });
    const res = await invoke(reorderRoute.POST, "POST", "/api/v1/policies/reorder", { token: adminToken, body: { ids: [one.body.id, one.body.id] } });
    expect(res.status).toBe(422);
    await invoke(policyRoute.DELETE, "DELETE", `/api/v1/policies/${one.body.id}`, { token: adminToken, params: { id: one.body.id } });
  });
});

describe("groups as customer pools", () => {
  it("offers only the group's images, sizes and networks, and places its orders on its own hosts", async () => {
    const created = await invoke(groupsRoute.POST, "POST", "/api/v1/groups", { token: adminToken, body: { slug: unique("batch"), name: "Batch cluster", autoApprove: true } });
    expect(created.status).toBe(201);
    const group = created.body;
    const dup = await invoke(groupsRoute.POST, "POST", "/api/v1/groups", { token: adminToken, body: { slug: group.slug, name: "Again" } });
    expect(dup.status).toBe(409);
    expect(dup.body.fields.slug).toBeDefined();

    const [linuxTest] = await db.select().from(images).where(eq(images.slug, "linux-test"));
    const [sim2] = await db.select().from(hosts).where(eq(hosts.name, "sim-2"));
    const patch = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${group.id}`, {
      token: adminToken,
      params: { id: group.id },
      body: { imageIds: [linuxTest.id], hostIds: [sim2.id] },
    });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    expect(patch.body.settings).toMatchObject({ imageIds: [linuxTest.id], hostIds: [sim2.id], flavorIds: [] });

    const customer = await makeUser(db, "customer", "default");
    await invoke(membersRoute.PUT, "PUT", `/api/v1/groups/${group.id}/members`, { token: adminToken, params: { id: group.id }, body: { email: customer.email, role: "customer" } });
    const token = await tokenFor(db, customer);
    const other = await postOrder(token, { group: group.slug, image: "linux-web" });
    expect(other.status).toBe(422);
    expect(other.body.fields.image).toEqual([`Linux web service is not offered to group Batch cluster`]);
    const notMine = await postOrder(token, { group: "no-such-group" });
    expect(notMine.status).toBe(422);
    expect(notMine.body.fields.group).toEqual([`You are not a member of group "no-such-group"`]);

    worker = await startWorkers();
    const placed = await Promise.all([1, 2, 3].map(() => postOrder(token, { group: group.slug })));
    for (const p of placed) {
      expect(p.status).toBe(201);
      const view = await waitForOrder(db, p.body.id);
      expect(view.status).toBe("ready");
      expect(view.environment!.host).toBe("sim-2");
    }

    // By tag instead: an admin tags sim-1 "batch"; the pool names the tag, not the host.
    const [sim1] = await db.select().from(hosts).where(eq(hosts.name, "sim-1"));
    const badTag = await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${sim1.id}`, { token: adminToken, params: { id: sim1.id }, body: { tags: ["Batch; rm -rf"] } });
    expect(badTag.status).toBe(422);
    expect(JSON.stringify(badTag.body.fields)).toContain("A tag is lowercase letters, digits and hyphens");
    const tagged = await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${sim1.id}`, { token: adminToken, params: { id: sim1.id }, body: { tags: ["batch"] } });
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(200);
    expect(tagged.body.tags).toEqual(["batch"]);
    const byTag = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { hostIds: [], hostTags: ["batch"] } });
    expect(byTag.status, JSON.stringify(byTag.body)).toBe(200);
    const onTagged = await postOrder(token, { group: group.slug });
    expect(onTagged.status).toBe(201);
    expect((await waitForOrder(db, onTagged.body.id)).environment!.host).toBe("sim-1");
    await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${sim1.id}`, { token: adminToken, params: { id: sim1.id }, body: { tags: [] } });

    // Members: removed from the group, the customer can no longer order in it.
    const del = await invoke(memberRoute.DELETE, "DELETE", `/api/v1/groups/${group.id}/members/${customer.id}`, { token: adminToken, params: { id: group.id, userId: customer.id } });
    expect(del.status).toBe(204);
    expect((await postOrder(token, { group: group.slug })).status).toBe(422);
    const audit = (await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, group.id))).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(["group.create", "group.update", "group.member.set", "group.member.remove"]));
  });

  it("gives an order without a network the group's own production network", async () => {
    const group = await makeGroup(db, { autoApprove: false });
    const net = await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
      token: adminToken,
      body: { slug: unique("lab"), name: "Lab production", purpose: "production", cidr: "10.77.0.0/24", gateway: "10.77.0.1", bridge: "xenbr7" },
    });
    expect(net.status, JSON.stringify(net.body)).toBe(201);
    const [service] = await db.select().from(networks).where(eq(networks.slug, "service"));
    const bad = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { networkIds: [service.id] } });
    expect(bad.status).toBe(422);
    expect(bad.body.fields.networkIds).toEqual(["Service network: orders choose production networks only"]);
    const ok = await invoke(groupRoute.PATCH, "PATCH", `/api/v1/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { networkIds: [net.body.id] } });
    expect(ok.status).toBe(200);
    const customer = await makeUser(db, "customer", group.slug);
    const created = await order(db, customer);
    const [row] = await db.select({ networkId: orders.networkId }).from(orders).where(eq(orders.id, created.id));
    expect(row.networkId).toBe(net.body.id);
    await expect(order(db, customer, { network: "production" })).rejects.toMatchObject({ status: 422, fields: { network: [`Production network is not one of group ${group.name}'s networks`] } });
  });

  it("lets only admins manage groups", async () => {
    const customer = await makeUser(db, "customer", "default");
    const token = await tokenFor(db, customer);
    const res = await invoke(groupsRoute.POST, "POST", "/api/v1/groups", { token, body: { slug: unique("x"), name: "X" } });
    expect(res.status).toBe(403);
    const mine = await invoke(groupsRoute.GET, "GET", "/api/v1/groups", { token });
    expect(mine.body.groups.map((g: { slug: string }) => g.slug)).toEqual(["default"]);
  });
});

export type { Actor };
