/**
 * Pre-flight before approval, on real PostgreSQL: an approver sees, computed at that moment,
 * whether a held order would succeed; approving one that would not needs an override with a
 * reason, which is audited.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import * as preflightRoute from "@/app/api/v1/orders/[id]/preflight/route";
import * as approveRoute from "@/app/api/v1/orders/[id]/approve/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as groupQuotaRoute from "@/app/api/v1/quotas/groups/[id]/route";
import { auditEvents, hosts } from "@/lib/db/schema";
import { allocateAddress } from "@/lib/net/ipam";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, orderStatus, tokenFor, unique, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let adminToken: string, approverToken: string, customerToken: string, strangerToken: string;
let customer: Actor;
let group: Awaited<ReturnType<typeof makeGroup>>;

beforeAll(async () => {
  group = await makeGroup(db, { autoApprove: false });
  customer = await makeUser(db, "customer", group.slug);
  const approver = await makeUser(db, "approver", group.slug);
  const otherGroup = await makeGroup(db, { autoApprove: false });
  const stranger = await makeUser(db, "approver", otherGroup.slug);
  [adminToken, approverToken, customerToken, strangerToken] = await Promise.all([admin, approver, customer, stranger].map((a) => tokenFor(db, a)));
});

afterAll(async () => {
  await db.update(hosts).set({ state: "active" });
});

const checkOf = (body: { checks: { key: string; ok: boolean; detail: string }[] }, key: string) => body.checks.find((c) => c.key === key);

function getPreflight(token: string, id: string) {
  return invoke(preflightRoute.GET, "GET", `/api/v1/orders/${id}/preflight`, { token, params: { id } });
}

function approve(token: string, id: string, body: Record<string, unknown> = {}) {
  return invoke(approveRoute.POST, "POST", `/api/v1/orders/${id}/approve`, { token, params: { id }, body });
}

describe("pre-flight of a held order", () => {
  it("passes every check when the order would succeed, and the approver approves", async () => {
    const held = await order(db, customer);
    expect(held.status).toBe("pending_approval");
    const res = await getPreflight(approverToken, held.id);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.checks.map((c: { key: string }) => c.key)).toEqual(["host-kind", "capacity", "network:service", "network:production", "quota", "group"]);
    expect(checkOf(res.body, "host-kind")!.detail).toBe("Linux test server runs on sim or xen; active: sim-1, sim-2");
    expect(checkOf(res.body, "capacity")!.detail).toMatch(/^would go to sim-[12]: most free memory/);
    expect(checkOf(res.body, "network:production")!.detail).toMatch(/^\d+ of 253 addresses free in 10\.30\.0\.0\/24$/);
    const ok = await approve(approverToken, held.id);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("queued");
  });

  it("reports an exhausted network; approving needs an override with a reason, which is audited", async () => {
    const slug = unique("tiny");
    const net = await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
      token: adminToken,
      body: { slug, name: "Tiny network", purpose: "production", cidr: "10.99.0.0/30", gateway: "10.99.0.1", bridge: "xenbr9" },
    });
    expect(net.status, JSON.stringify(net.body)).toBe(201);
    // A /30 with its gateway has one guest address: another environment takes it.
    const taken = await allocateAddress(db, net.body.id, randomUUID());
    expect(taken.ip).toBe("10.99.0.2");

    const held = await order(db, customer, { network: slug });
    const res = await getPreflight(approverToken, held.id);
    expect(res.body.ok).toBe(false);
    expect(checkOf(res.body, `network:${slug}`)).toEqual({ key: `network:${slug}`, label: "Free address on Tiny network", ok: false, detail: "0 of 1 addresses free in 10.99.0.0/30" });
    expect(res.body.checks.filter((c: { ok: boolean }) => !c.ok)).toHaveLength(1);

    const refused = await approve(approverToken, held.id);
    expect(refused.status).toBe(409);
    expect(refused.body.fields.preflight).toEqual(["Free address on Tiny network: 0 of 1 addresses free in 10.99.0.0/30"]);
    expect(refused.body.error).toContain("Pre-flight failed: Free address on Tiny network: 0 of 1 addresses free in 10.99.0.0/30");
    expect((await orderStatus(db, held.id)).status).toBe("pending_approval");

    const noReason = await approve(approverToken, held.id, { override: true });
    expect(noReason.status).toBe(422);
    expect(noReason.body.fields.reason).toEqual(["Say why you approve despite the failed checks"]);

    const overridden = await approve(approverToken, held.id, { override: true, reason: "an address is freed tonight" });
    expect(overridden.status).toBe(200);
    expect(overridden.body.status).toBe("queued");
    expect((await orderStatus(db, held.id)).reason).toMatch(/^approved by .* despite failed pre-flight: an address is freed tonight$/);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "order.approve.override"), eq(auditEvents.targetId, held.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0].data).toEqual({ reason: "an address is freed tonight", failed: [{ check: `network:${slug}`, detail: "0 of 1 addresses free in 10.99.0.0/30" }] });
  });

  it("reports no active host and a quota lowered since the order was placed", async () => {
    const held = await order(db, customer, { flavor: "large" });
    await db.update(hosts).set({ state: "draining" });
    const set = await invoke(groupQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { vcpus: 2 } });
    expect(set.status).toBe(200);
    try {
      const res = await getPreflight(approverToken, held.id);
      expect(checkOf(res.body, "host-kind")).toMatchObject({ ok: false, detail: "Linux test server needs an active sim or xen host; there is none" });
      expect(checkOf(res.body, "capacity")!.ok).toBe(false);
      // The two orders approved above (small, 1 vCPU each) still count: 0 of 2 left.
      expect(checkOf(res.body, "quota")).toMatchObject({ ok: false, detail: `needs 4 vCPUs, 0 of 2 left in group ${group.name}` });
    } finally {
      await db.update(hosts).set({ state: "active" });
      await invoke(groupQuotaRoute.PATCH, "PATCH", `/api/v1/quotas/groups/${group.id}`, { token: adminToken, params: { id: group.id }, body: { vcpus: null } });
    }
    const again = await getPreflight(approverToken, held.id);
    expect(again.body.ok).toBe(true);
  });

  it("is shown only to approvers of the order's group and admins", async () => {
    const held = await order(db, customer);
    expect((await getPreflight(customerToken, held.id)).status).toBe(403);
    expect((await getPreflight(strangerToken, held.id)).status).toBe(404);
    expect((await getPreflight(adminToken, held.id)).status).toBe(200);
  });
});
