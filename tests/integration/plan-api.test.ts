/**
 * The dry run: POST /api/v1/plan answers the exact commands and files an order would run on
 * its host, without running or reserving anything; admins only. Injection attempts in names,
 * hostnames and keys are refused with 422 by the plan API and the order API, and nothing is
 * created or planned.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import * as planRoute from "@/app/api/v1/plan/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import { auditEvents, hosts, ipAllocations, orders, users } from "@/lib/db/schema";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, type Actor } from "../helpers/portal";
import { KEY } from "../fixtures/plan-orders";

const { db, admin } = await bootPortal();
let adminToken: string;
let customer: Actor;
let customerToken: string;

beforeAll(async () => {
  adminToken = await tokenFor(db, admin);
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  customerToken = await tokenFor(db, customer);
  await db.update(users).set({ sshPublicKey: KEY }).where(eq(users.id, admin.id));
  // A Solaris host with more free memory than the sim hosts, so placement chooses it for zones.
  await db.insert(hosts).values([
    { name: "sol-1", kind: "zones", address: "sol-1.example.org", cpuCapacity: 32, memoryMbCapacity: 262144, diskGbCapacity: 4000, config: { timezone: "Europe/Berlin", physicalByNetwork: { production: "e1000g1", service: "e1000g0" } } },
    { name: "xen-1", kind: "xen", address: "xen-1.example.org", cpuCapacity: 32, memoryMbCapacity: 8192, diskGbCapacity: 4000, config: {} },
  ]);
});

const plan = (body: unknown, token = adminToken) => invoke(planRoute.POST, "POST", "/api/v1/plan", { token, body });
const placeOrder = (body: unknown) => invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: customerToken, body });
const counts = async () => ({
  orders: (await db.select({ n: count() }).from(orders))[0].n,
  allocations: (await db.select({ n: count() }).from(ipAllocations))[0].n,
});

describe("POST /api/v1/plan", () => {
  it("shows the capped zone's exact commands and files on the host placement chooses, and reserves nothing", async () => {
    const before = await counts();
    const res = await plan({ image: "solaris10-whole-capped", flavor: "capped-2cpu-4g", name: "dry-zone1" });
    expect(res.status).toBe(200);
    expect(res.body.host).toEqual({ name: "sol-1", kind: "zones" });
    expect(res.body.placement).toMatch(/^sol-1: most free memory/);
    expect(res.body.plan.notice).toMatch(/Not run on a real Solaris host/);
    expect(res.body.plan.steps.map((s: { step: string }) => s.step)).toEqual(["resolve", "pack", "storage", "unpack", "networking", "glue", "boot", "wait_ready", "halt", "destroy"]);
    const storage = res.body.plan.steps.find((s: { step: string }) => s.step === "storage");
    const zonecfg = storage.actions.find((a: { kind: string; path?: string }) => a.kind === "file");
    expect(zonecfg.path).toBe("/var/tmp/portal/dry-zone1.zonecfg");
    expect(zonecfg.content).toContain("create -b\nset zonepath=/zones/dry-zone1");
    // The host's own NICs, not the networks' Xen bridge names.
    expect(zonecfg.content).toContain("add net\nset address=10.30.0.2/24\nset physical=e1000g1\nset defrouter=10.30.0.1\nend\nadd net\nset address=10.20.0.2/24\nset physical=e1000g0\nend");
    expect(zonecfg.content).toContain("add capped-cpu\nset ncpus=2\nend\nadd capped-memory\nset physical=4g\nset swap=4g\nend");
    expect(storage.actions.find((a: { argv?: string[] }) => a.argv?.[0] === "zonecfg").argv).toEqual(["zonecfg", "-z", "dry-zone1", "-f", "/var/tmp/portal/dry-zone1.zonecfg"]);
    expect(res.body.text).toContain("$ zoneadm -z dry-zone1 clone golden-solaris10-whole-capped");
    expect(res.body.text).toContain("timezone=Europe/Berlin");
    expect(res.body.text).toContain("root_password=<crypt(3) hash, not shown>");
    // The addresses are the next free ones, with the MAC rule; none was reserved.
    expect(res.body.addresses).toEqual([
      { network: "production", ip: "10.30.0.2", mac: "02:00:00:1e:00:02", bridge: "xenbr1" },
      { network: "service", ip: "10.20.0.2", mac: "02:00:00:14:00:02", bridge: "xenbr0" },
    ]);
    expect(await counts()).toEqual(before);
    const audited = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "plan.preview"), eq(auditEvents.actorId, admin.id)));
    expect(audited.length).toBeGreaterThan(0);
  });

  it("plans for a host the admin names: a Xen guest with its xl config and the owner's key", async () => {
    const res = await plan({ image: "linux-db", flavor: "medium", name: "dry-xen1", host: "xen-1" });
    expect(res.status).toBe(200);
    expect(res.body.plan.kind).toBe("xen");
    expect(res.body.text).toContain("$ lvcreate -L 20G -n dry-xen1 vg0");
    expect(res.body.text).toContain("$ dd if=/dev/vg0/golden-linux-db of=/dev/vg0/dry-xen1 bs=4M conv=sparse");
    expect(res.body.text).toContain("vif     = [ 'mac=02:00:00:1e:00:02,bridge=xenbr1', 'mac=02:00:00:14:00:02,bridge=xenbr0' ]");
    expect(res.body.text).toContain(KEY);
  });

  it("says so when the chosen host runs no command plan (a sim host)", async () => {
    const res = await plan({ image: "linux-test", flavor: "small", name: "dry-sim1", host: "sim-1" });
    expect(res.status).toBe(200);
    expect(res.body.plan).toBeNull();
    expect(res.body.message).toMatch(/sim-1 is a sim host/);
  });

  it("is for admins only", async () => {
    const res = await plan({ image: "solaris10-sparse", flavor: "small", name: "dry-zone2" }, customerToken);
    expect(res.status).toBe(403);
  });

  it("refuses a host that does not exist or cannot run the image, per field", async () => {
    expect((await plan({ image: "solaris10-sparse", flavor: "small", name: "dry-zone3", host: "xen-1" })).body.fields.host[0]).toMatch(/does not run on xen hosts/);
    expect((await plan({ image: "solaris10-sparse", flavor: "small", name: "dry-zone3", host: "nope" })).body.fields.host[0]).toBe('No host "nope"');
  });
});

describe("injection attempts are refused with 422 and nothing is run, planned or created", () => {
  const badNames = ["web;reboot", "web$(reboot)", "web`reboot`", "web 01", "web'01", 'web"01', "web\nreboot", "a".repeat(33), "x".repeat(10_000)];

  for (const name of badNames) {
    it(`name ${JSON.stringify(name.slice(0, 20))}${name.length > 20 ? "..." : ""}`, async () => {
      const before = await counts();
      const audits = (await db.select({ n: count() }).from(auditEvents))[0].n;
      for (const res of [await plan({ image: "solaris10-sparse", flavor: "small", name }), await placeOrder({ image: "linux-test", flavor: "small", name })]) {
        expect(res.status).toBe(422);
        expect(res.body.fields.name.length).toBeGreaterThan(0);
      }
      expect(await counts()).toEqual(before);
      expect((await db.select({ n: count() }).from(auditEvents))[0].n).toBe(audits);
    });
  }

  it("image, flavor, network and host names that are not catalog entries", async () => {
    const before = await counts();
    const res = await plan({ image: "linux-test;reboot", flavor: "small$(id)", network: "prod`id`", name: "dry-inj1" });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.fields).sort()).toEqual(["flavor", "image", "network"]);
    const host = await plan({ image: "solaris10-sparse", flavor: "small", name: "dry-inj2", host: "sol-1;reboot" });
    expect(host.status).toBe(422);
    expect(host.body.fields.host[0]).toMatch(/letters, digits/);
    const huge = await plan({ image: "x".repeat(5000), flavor: "small", name: "dry-inj3" });
    expect(huge.status).toBe(422);
    expect(await counts()).toEqual(before);
  });

  it("SSH keys with shell characters, quotes or a second line are refused; one that got into the database anyway stops the plan", async () => {
    const put = (sshPublicKey: string) => invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token: customerToken, body: { sshPublicKey } });
    for (const bad of [`${KEY} $(reboot)`, `${KEY} \`id\``, `${KEY};reboot`, `${KEY} 'x'`, `${KEY}\nssh-ed25519 AAAA evil`, `${KEY} ${"c".repeat(9000)}`]) {
      const res = await put(bad);
      expect(res.status, bad.slice(-30)).toBe(422);
    }
    // Written behind the API's back: the plan builder checks again and refuses to build commands.
    await db.update(users).set({ sshPublicKey: `${KEY} $(reboot)` }).where(eq(users.id, admin.id));
    try {
      const res = await plan({ image: "solaris10-sparse", flavor: "small", name: "dry-key1", host: "sol-1" });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/refusing to build commands: SSH public key/);
    } finally {
      await db.update(users).set({ sshPublicKey: KEY }).where(eq(users.id, admin.id));
    }
  });
});
