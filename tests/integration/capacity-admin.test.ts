/**
 * Growing a network and overriding a host's capacity without SQL: PATCH /api/v1/networks/:id
 * widens a full block (new orders get addresses in it), changes gateway and bridge, and refuses
 * with the reason a change that would strand an allocated address or overlap another network;
 * PATCH /api/v1/hosts/:id sets capacity figures that placement uses and Test connection keeps,
 * refuses figures below what the host's environments use; every change is audited, every
 * refusal changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import * as networkRoute from "@/app/api/v1/networks/[id]/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import { auditEvents, environments, hosts, networks } from "@/lib/db/schema";
import { recordHostCheck } from "@/lib/hosts/queries";
import { candidateHosts } from "@/lib/policy/placement";
import { inCidr } from "@/lib/net/ipv4";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, makeGroup, makeUser, order, tokenFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;
const token = { admin: "", customer: "" };

beforeAll(async () => {
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, customer);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

const patchNetwork = (id: string, body: unknown, tok = token.admin) => invoke(networkRoute.PATCH, "PATCH", `/api/v1/networks/${id}`, { token: tok, params: { id }, body });
const patchHost = (id: string, body: unknown, tok = token.admin) => invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${id}`, { token: tok, params: { id }, body });

async function auditCount(action: string, targetId: string) {
  const [row] = await db.select({ n: count() }).from(auditEvents).where(and(eq(auditEvents.action, action), eq(auditEvents.targetId, targetId)));
  return row.n;
}

async function networkRow(id: string) {
  const [row] = await db.select().from(networks).where(eq(networks.id, id));
  return row;
}

describe("PATCH /api/v1/networks/:id", () => {
  let net: { id: string; slug: string };

  beforeAll(async () => {
    const res = await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
      token: token.admin,
      body: { slug: "grow", name: "Grows", purpose: "production", cidr: "10.98.1.0/30", gateway: "10.98.1.1", bridge: "br-grow" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    net = res.body;
    await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
      token: token.admin,
      body: { slug: "neighbour", name: "Neighbour", purpose: "production", cidr: "10.98.2.0/24", gateway: "10.98.2.1", bridge: "br-nb", macPrefix: "02:00:98" },
    });
  });

  it("widens a full block: the change is audited and the next order gets an address in the wider block", async () => {
    const first = await waitForOrder(db, (await order(db, customer, { network: net.slug })).id);
    expect(first.status).toBe("ready");
    const full = await waitForOrder(db, (await order(db, customer, { network: net.slug })).id);
    expect(full.status).toBe("failed");
    expect(full.reason).toContain("has no free address left");

    const res = await patchNetwork(net.id, { cidr: "10.98.1.0/29" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ cidr: "10.98.1.0/29", gateway: "10.98.1.1", bridge: "br-grow" });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "network.update"), eq(auditEvents.targetId, net.id)));
    expect(audit).toMatchObject({ actorId: admin.id, before: { cidr: "10.98.1.0/30" }, after: { cidr: "10.98.1.0/29" } });

    const next = await waitForOrder(db, (await order(db, customer, { network: net.slug })).id);
    expect(next.status, next.reason ?? "").toBe("ready");
    const ip = (await allocationsOf(db, next.id)).find((a) => a.network === net.slug)!.ip;
    expect(ip).toBe("10.98.1.3");
    expect(inCidr(ip, "10.98.1.0/29")).toBe(true);
  });

  it("refuses with 409 a block or gateway that would strand an allocated address, naming it; nothing changes", async () => {
    const before = await networkRow(net.id);
    const audits = await auditCount("network.update", net.id);

    const shrink = await patchNetwork(net.id, { cidr: "10.98.1.0/30" });
    expect(shrink.status).toBe(409);
    expect(shrink.body.error).toMatch(/1 allocated address would no longer be usable \(10\.98\.1\.3\)/);
    expect(shrink.body.fields.cidr).toBeDefined();

    const moved = await patchNetwork(net.id, { cidr: "10.98.8.0/29", gateway: "10.98.8.1" });
    expect(moved.status).toBe(409);
    expect(moved.body.error).toMatch(/2 allocated addresses would no longer be usable \(10\.98\.1\.2, 10\.98\.1\.3\)/);

    const onGuest = await patchNetwork(net.id, { gateway: "10.98.1.2" });
    expect(onGuest.status).toBe(409);
    expect(onGuest.body.fields.gateway[0]).toContain("10.98.1.2");

    const overlap = await patchNetwork(net.id, { cidr: "10.98.0.0/22", gateway: "10.98.1.1" });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error).toBe("10.98.0.0/22 overlaps network Neighbour (neighbour, 10.98.2.0/24)");

    expect(await networkRow(net.id)).toEqual(before);
    expect(await auditCount("network.update", net.id)).toBe(audits);
  });

  it("checks gateway and bridge like a new network's (422 per field), changes them when valid, and is for admins only", async () => {
    const outside = await patchNetwork(net.id, { gateway: "10.98.9.1" });
    expect(outside.status).toBe(422);
    expect(outside.body.fields.gateway).toEqual(["Gateway must be inside 10.98.1.0/29"]);
    const broadcast = await patchNetwork(net.id, { gateway: "10.98.1.7" });
    expect(broadcast.status).toBe(422);
    const bridge = await patchNetwork(net.id, { bridge: "br0; reboot" });
    expect(bridge.status).toBe(422);
    expect(bridge.body.fields.bridge[0]).toMatch(/^Bridge or device/);
    const badCidr = await patchNetwork(net.id, { cidr: "10.98.1.1/29" });
    expect(badCidr.status).toBe(422);
    expect(badCidr.body.fields.cidr).toEqual(["10.98.1.1/29 is not the network address of its block: use 10.98.1.0/29"]);
    expect((await patchNetwork(net.id, {})).status).toBe(422);
    expect((await patchNetwork(net.id, { slug: "renamed" })).status).toBe(422);

    expect((await patchNetwork(net.id, { bridge: "br-other" }, token.customer)).status).toBe(403);
    expect((await patchNetwork("00000000-0000-4000-8000-000000000000", { bridge: "br-other" })).status).toBe(404);
    expect((await networkRow(net.id)).bridge).toBe("br-grow");

    const ok = await patchNetwork(net.id, { gateway: "10.98.1.6", bridge: "br-grow2" });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ gateway: "10.98.1.6", bridge: "br-grow2", cidr: "10.98.1.0/29" });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "network.update"), eq(auditEvents.targetId, net.id))).orderBy(auditEvents.id);
    expect(audit).toBeDefined();
    expect(await auditCount("network.update", net.id)).toBe(2);
  });
});

describe("host capacity overrides", () => {
  async function simHost(name: string) {
    const [row] = await db.select().from(hosts).where(eq(hosts.name, name));
    return row;
  }

  it("sets capacity figures by hand: shown, audited, used by placement", async () => {
    const host = await simHost("sim-2");
    const res = await patchHost(host.id, { capacity: { memoryMb: 32768, vcpus: "8" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.capacity).toEqual({ vcpus: 8, memoryMb: 32768, diskGb: host.diskGbCapacity });
    expect(res.body.capacityOverride).toEqual({ vcpus: 8, memoryMb: 32768 });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "host.update"), eq(auditEvents.targetId, host.id)));
    expect(audit).toMatchObject({
      actorId: admin.id,
      before: { capacity: { vcpus: 16, memoryMb: 65536 } },
      after: { capacity: { vcpus: 8, memoryMb: 32768 }, capacityOverride: { vcpus: 8, memoryMb: 32768 } },
    });
    const used = await db.select().from(environments).where(eq(environments.hostId, host.id));
    const usedMemory = used.filter((e) => e.state === "running").reduce((n, e) => n + e.memoryMb, 0);
    const candidate = (await candidateHosts(db, ["sim"], { lock: false })).find((c) => c.id === host.id)!;
    expect(candidate.freeMemoryMb).toBe(32768 - usedMemory);
  });

  it("Test connection keeps the figures set by hand and updates the others; null hands one back to discovery", async () => {
    const host = await simHost("sim-2");
    const facts = { vcpus: 12, memoryMb: 50000, freeMemoryMb: null, diskGb: 900, freeDiskGb: null, version: null, details: [] };
    await recordHostCheck(db, admin, host.id, { ok: true, at: new Date().toISOString(), durationMs: 5, error: null, presentedHostKey: null, facts }, { pinHostKey: null });
    let row = await simHost("sim-2");
    expect([row.cpuCapacity, row.memoryMbCapacity, row.diskGbCapacity]).toEqual([8, 32768, 900]);

    const back = await patchHost(host.id, { capacity: { memoryMb: null } });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.capacityOverride).toEqual({ vcpus: 8 });
    row = await simHost("sim-2");
    expect([row.cpuCapacity, row.memoryMbCapacity, row.diskGbCapacity]).toEqual([8, 50000, 900]);
  });

  it("refuses figures below what the host's environments use (409, per field) and invalid ones (422); nothing changes", async () => {
    const created = await waitForOrder(db, (await order(db, customer, { flavor: "large" })).id);
    expect(created.status).toBe("ready");
    const host = await simHost(created.environment!.host);
    const audits = await auditCount("host.update", host.id);

    const below = await patchHost(host.id, { capacity: { memoryMb: 1024 } });
    expect(below.status).toBe(409);
    expect(below.body.fields["capacity.memoryMb"][0]).toMatch(/^Its environments already use \d+ MiB memory; drain the host instead/);
    for (const bad of [{ vcpus: 0 }, { memoryMb: -5 }, { diskGb: "lots" }, { vcpus: 1.5 }, { cores: 4 }]) {
      const res = await patchHost(host.id, { capacity: bad });
      expect(res.status, JSON.stringify(bad)).toBe(422);
    }
    expect((await patchHost(host.id, { capacity: { memoryMb: 99999 } }, token.customer)).status).toBe(403);
    expect(await simHost(host.name)).toEqual(host);
    expect(await auditCount("host.update", host.id)).toBe(audits);
  });
});
