import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as catalogRoute from "@/app/api/v1/catalog/route";
import { auditEvents, images, networks } from "@/lib/db/schema";
import { inCidr } from "@/lib/net/ipv4";
import { macForIp } from "@/lib/net/mac";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;
const token = { admin: "", customer: "" };

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, customer);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

async function networkCount() {
  const [{ n }] = await db.select({ n: count() }).from(networks);
  return n;
}

async function imageCount() {
  const [{ n }] = await db.select({ n: count() }).from(images);
  return n;
}

const addNetwork = (body: unknown, tok = token.admin) => invoke(networksRoute.POST, "POST", "/api/v1/networks", { token: tok, body });
const addImage = (body: unknown, tok = token.admin) => invoke(imagesRoute.POST, "POST", "/api/v1/images", { token: tok, body });

describe("networks", () => {
  it("an admin adds a production network; an order on it gets an address in its block and the MAC by the network's prefix", async () => {
    const slug = unique("lab");
    const created = await addNetwork({
      slug, name: "Lab production", purpose: "production", cidr: "10.40.0.0/24", gateway: "10.40.0.1", bridge: "xenbr2", macPrefix: "06:AA:00",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), slug, cidr: "10.40.0.0/24", gateway: "10.40.0.1", bridge: "xenbr2", macPrefix: "06:aa:00" });

    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "network.create"), eq(auditEvents.targetId, created.body.id)));
    expect(audit).toMatchObject({ actorId: admin.id, targetType: "network", data: expect.objectContaining({ slug, cidr: "10.40.0.0/24" }) });

    const listedBefore = await invoke(networksRoute.GET, "GET", "/api/v1/networks", { token: token.customer });
    expect(listedBefore.status).toBe(200);
    const mine = listedBefore.body.networks.find((n: { slug: string }) => n.slug === slug);
    // 256 addresses less network, broadcast and gateway.
    expect(mine).toEqual({ id: created.body.id, slug, name: "Lab production", purpose: "production", cidr: "10.40.0.0/24", gateway: "10.40.0.1", free: 253 });

    // The admin's own order is approved by policy and delivered by the worker.
    const ordered = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", {
      token: token.admin,
      body: { image: "linux-test", flavor: "small", name: unique("lab"), network: slug },
    });
    expect(ordered.status, JSON.stringify(ordered.body)).toBe(201);
    expect(ordered.body.status).toBe("queued");
    const view = await waitForOrder(db, ordered.body.id);
    expect(view.status).toBe("ready");
    const address = view.environment!.addresses.find((a) => a.network === slug);
    expect(address, JSON.stringify(view.environment!.addresses)).toBeDefined();
    expect(inCidr(address!.ip, "10.40.0.0/24")).toBe(true);
    expect(address!.ip).not.toMatch(/\.(0|1|255)$/);
    expect(address!.mac).toBe(macForIp(address!.ip, "06:aa:00"));
    expect(address!.mac).toMatch(/^06:aa:00:28:00:[0-9a-f]{2}$/);

    const listedAfter = await invoke(networksRoute.GET, "GET", "/api/v1/networks", { token: token.customer });
    expect(listedAfter.body.networks.find((n: { slug: string }) => n.slug === slug).free).toBe(252);
  });

  it("refuses a block that overlaps another network, naming it, and a taken slug", async () => {
    const before = await networkCount();
    const overlap = await addNetwork({ slug: unique("wide"), name: "Too wide", purpose: "service", cidr: "10.30.0.0/16", gateway: "10.30.200.1", bridge: "br0" });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error).toBe("10.30.0.0/16 overlaps network Production network (production, 10.30.0.0/24)");
    expect(overlap.body.fields).toEqual({ cidr: [overlap.body.error] });

    const inside = await addNetwork({ slug: unique("small"), name: "Inside", purpose: "service", cidr: "10.20.0.128/25", gateway: "10.20.0.129", bridge: "br0" });
    expect(inside.status).toBe(409);
    expect(inside.body.error).toMatch(/overlaps network Service network/);

    // 11.30.0.0/24 shares no address with 10.30.0.0/24, but under the same prefix its guests
    // would get the same MACs (the rule keeps the low 24 bits); another prefix is fine.
    const clash = await addNetwork({ slug: unique("twin"), name: "Twin", purpose: "production", cidr: "11.30.0.0/24", gateway: "11.30.0.1", bridge: "br0" });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatch(/^Guests on 11\.30\.0\.0\/24 would get the same MACs as on network Production network \(10\.30\.0\.0\/24\)/);
    expect(clash.body.fields.macPrefix).toBeDefined();
    const twin = await addNetwork({ slug: unique("twin"), name: "Twin", purpose: "production", cidr: "11.30.0.0/24", gateway: "11.30.0.1", bridge: "br0", macPrefix: "02:00:0b" });
    expect(twin.status).toBe(201);
    await db.delete(networks).where(eq(networks.id, twin.body.id));

    const taken = await addNetwork({ slug: "production", name: "Again", purpose: "production", cidr: "10.99.0.0/24", gateway: "10.99.0.1", bridge: "br0" });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatch(/slug production already exists/);
    expect(taken.body.fields.slug).toBeDefined();
    expect(await networkCount()).toBe(before);
  });

  it("answers 422 with a message per field for a bad CIDR, a gateway outside it or a bad bridge, and inserts nothing", async () => {
    const before = await networkCount();
    const auditsBefore = (await db.select({ n: count() }).from(auditEvents).where(eq(auditEvents.action, "network.create")))[0].n;
    const base = { slug: unique("bad"), name: "Bad", purpose: "production", cidr: "10.60.0.0/24", gateway: "10.60.0.1", bridge: "br0" };

    const cidr = await addNetwork({ ...base, cidr: "10.60.0.5/24" });
    expect(cidr.status).toBe(422);
    expect(cidr.body.fields).toEqual({ cidr: ["10.60.0.5/24 is not the network address of its block: use 10.60.0.0/24"] });

    const gateway = await addNetwork({ ...base, gateway: "10.61.0.1" });
    expect(gateway.status).toBe(422);
    expect(gateway.body.fields).toEqual({ gateway: ["Gateway must be inside 10.60.0.0/24"] });

    const bridge = await addNetwork({ ...base, bridge: "br0; reboot" });
    expect(bridge.status).toBe(422);
    expect(bridge.body.fields.bridge[0]).toMatch(/^Bridge or device/);

    const all = await addNetwork({ slug: "X", purpose: "lab", cidr: "10.60.0.0/8", gateway: "nope", bridge: "" });
    expect(all.status).toBe(422);
    expect(Object.keys(all.body.fields).sort()).toEqual(["bridge", "cidr", "gateway", "name", "purpose", "slug"]);

    expect(await networkCount()).toBe(before);
    expect((await db.select({ n: count() }).from(auditEvents).where(eq(auditEvents.action, "network.create")))[0].n).toBe(auditsBefore);
  });

  it("lets only admins add networks; any signed-in user lists them, without bridges", async () => {
    const before = await networkCount();
    const refused = await addNetwork({ slug: unique("cust"), name: "Mine", purpose: "production", cidr: "10.70.0.0/24", gateway: "10.70.0.1", bridge: "br0" }, token.customer);
    expect(refused.status).toBe(403);
    expect(await networkCount()).toBe(before);

    const anonymous = await invoke(networksRoute.GET, "GET", "/api/v1/networks");
    expect(anonymous.status).toBe(401);
    const listed = await invoke(networksRoute.GET, "GET", "/api/v1/networks", { token: token.customer });
    expect(listed.status).toBe(200);
    const production = listed.body.networks.find((n: { slug: string }) => n.slug === "production");
    expect(Object.keys(production).sort()).toEqual(["cidr", "free", "gateway", "id", "name", "purpose", "slug"]);
  });
});

describe("images", () => {
  const solaris = {
    name: "Solaris 10 web zone", os: "solaris", version: "Solaris 10 1/13", hostKinds: ["zones", "sim"],
    source: "clone", rootType: "sparse", purpose: "web", sizeMb: 768,
  };

  it("an admin adds an image; it shows in the catalog; the same slug again is refused with 409", async () => {
    const slug = unique("sol-web");
    const created = await addImage({ ...solaris, slug });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ slug, os: "solaris", rootType: "sparse", hostKinds: ["zones", "sim"], licensed: false, active: true });
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "image.create"), eq(auditEvents.targetId, created.body.id)));
    expect(audit).toMatchObject({ actorId: admin.id, targetType: "image" });

    const catalog = await invoke(catalogRoute.GET, "GET", "/api/v1/catalog?os=solaris", { token: token.customer });
    expect(catalog.body.images.map((i: { slug: string }) => i.slug)).toContain(slug);

    const before = await imageCount();
    const again = await addImage({ ...solaris, slug, name: "Another" });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe(`An image with slug ${slug} already exists (Solaris 10 web zone)`);
    expect(again.body.fields.slug).toEqual([again.body.error]);
    expect(await imageCount()).toBe(before);
  });

  it("refuses a Solaris image on qemu with 422 under hostKinds, and a customer with 403", async () => {
    const before = await imageCount();
    const wrong = await addImage({ ...solaris, slug: unique("sol-qemu"), hostKinds: ["qemu"] });
    expect(wrong.status).toBe(422);
    expect(wrong.body.fields).toEqual({ hostKinds: ["Solaris images run only on zones or sim hosts, not on qemu"] });

    const refused = await addImage({ ...solaris, slug: unique("sol-cust") }, token.customer);
    expect(refused.status).toBe(403);
    expect(await imageCount()).toBe(before);
  });
});
