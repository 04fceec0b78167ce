import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as imageRoute from "@/app/api/v1/images/[id]/route";
import * as retireRoute from "@/app/api/v1/images/[id]/retire/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as coursesRoute from "@/app/api/v1/courses/route";
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
const changeImage = (id: string, body: unknown, tok = token.admin) => invoke(imageRoute.PATCH, "PATCH", `/api/v1/images/${id}`, { token: tok, body, params: { id } });
const retire = (id: string, tok = token.admin) => invoke(retireRoute.POST, "POST", `/api/v1/images/${id}/retire`, { token: tok, params: { id } });
const catalogSlugs = async () =>
  (await invoke(catalogRoute.GET, "GET", "/api/v1/catalog", { token: token.customer })).body.images.map((i: { slug: string }) => i.slug) as string[];
const auditOf = (action: string, imageId: string) =>
  db.select().from(auditEvents).where(and(eq(auditEvents.action, action), eq(auditEvents.targetId, imageId))).orderBy(auditEvents.id);

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

  const linux = { name: "Linux CI runner", os: "linux", version: "Debian 12", hostKinds: ["sim", "xen"], source: "clone", purpose: "test", sizeMb: 2048 };
  const newLinuxImage = async () => {
    const created = await addImage({ ...linux, slug: unique("ci") });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; slug: string; name: string };
  };

  it("an admin changes an image's name, description, version and size; audited with before and after; the same values again change nothing", async () => {
    const image = await newLinuxImage();
    const changed = await changeImage(image.id, { name: "Linux CI runner (2 GB)", description: "Runs the pipelines.", version: "Debian 12.8", sizeMb: "2304", licensed: true });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ id: image.id, slug: image.slug, name: "Linux CI runner (2 GB)", description: "Runs the pipelines.", version: "Debian 12.8", sizeMb: 2304, licensed: true, active: true, retiredAt: null });
    const [audit] = await auditOf("image.update", image.id);
    expect(audit).toMatchObject({
      actorId: admin.id, targetType: "image", data: { slug: image.slug },
      before: { name: "Linux CI runner", description: "", version: "Debian 12", sizeMb: 2048, licensed: false },
      after: { name: "Linux CI runner (2 GB)", description: "Runs the pipelines.", version: "Debian 12.8", sizeMb: 2304, licensed: true },
    });
    const catalog = await invoke(catalogRoute.GET, "GET", "/api/v1/catalog", { token: token.customer });
    expect(catalog.body.images.find((i: { slug: string }) => i.slug === image.slug)).toMatchObject({ name: "Linux CI runner (2 GB)", version: "Debian 12.8" });

    const again = await changeImage(image.id, { name: "Linux CI runner (2 GB)", sizeMb: 2304 });
    expect(again.status).toBe(200);
    expect(await auditOf("image.update", image.id)).toHaveLength(1);
    expect(await auditOf("api.patch", `/api/v1/images/${image.id}`)).toHaveLength(0);
  });

  it("refuses what an image cannot become, with a message per field, and changes nothing", async () => {
    const image = await newLinuxImage();
    const zones = await changeImage(image.id, { hostKinds: ["zones"] });
    expect(zones.status).toBe(422);
    expect(zones.body.fields).toEqual({ hostKinds: ["Linux images do not run on Solaris zones"] });
    const slug = await changeImage(image.id, { slug: "renamed", os: "solaris", name: "Renamed" });
    expect(slug.status).toBe(422);
    expect(Object.keys(slug.body.fields).sort()).toEqual(["os", "slug"]);
    const nothing = await changeImage(image.id, {});
    expect(nothing.status).toBe(422);
    expect(Object.values(nothing.body.fields).flat()).toEqual([expect.stringMatching(/^Nothing to change/)]);
    const bad = await changeImage(image.id, { sizeMb: 0, active: "no", name: "" });
    expect(bad.status).toBe(422);
    expect(bad.body.fields).toEqual({ sizeMb: ["Size must be more than 0 MB"], active: ["Active is true (listed in the catalog) or false (hidden)"], name: ["Enter a name"] });
    const [row] = await db.select().from(images).where(eq(images.id, image.id));
    expect(row).toMatchObject({ name: "Linux CI runner", hostKinds: ["sim", "xen"], sizeMb: 2048, active: true });
    expect(await auditOf("image.update", image.id)).toHaveLength(0);

    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await changeImage(missing, { name: "Ghost" })).status).toBe(404);
    expect((await retire(missing)).status).toBe(404);
    expect((await changeImage(image.id, { name: "Mine now" }, token.customer)).status).toBe(403);
    expect((await retire(image.id, token.customer)).status).toBe(403);
  });

  it("a hidden image leaves the catalog and cannot be ordered; its environment keeps running; listed again it can be ordered", async () => {
    const image = await newLinuxImage();
    const first = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: image.slug, flavor: "small", name: unique("ci") } });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect((await waitForOrder(db, first.body.id)).status).toBe("ready");

    const hidden = await changeImage(image.id, { active: false });
    expect(hidden.status).toBe(200);
    expect(hidden.body.active).toBe(false);
    expect(await catalogSlugs()).not.toContain(image.slug);
    const refused = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: image.slug, flavor: "small", name: unique("ci") } });
    expect(refused.status).toBe(422);
    expect(refused.body.fields.image).toEqual([`No image "${image.slug}" in the catalog`]);
    const view = await waitForOrder(db, first.body.id);
    expect(view.status).toBe("ready");
    expect(view.environment?.state).toBe("running");
    const [audit] = await auditOf("image.update", image.id);
    expect(audit).toMatchObject({ before: { active: true }, after: { active: false } });

    expect((await changeImage(image.id, { active: true })).status).toBe(200);
    expect(await catalogSlugs()).toContain(image.slug);
    const again = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: image.slug, flavor: "small", name: unique("ci") } });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
  });

  it("retiring is refused while orders use the image, naming them; allowed once they are retired; a retired image is not changed", async () => {
    const image = await newLinuxImage();
    const names = [unique("ret-a"), unique("ret-b")];
    const ids: string[] = [];
    for (const name of names) {
      const o = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: image.slug, flavor: "small", name } });
      expect(o.status, JSON.stringify(o.body)).toBe(201);
      ids.push(o.body.id);
    }
    await Promise.all(ids.map((id) => waitForOrder(db, id)));

    const busy = await retire(image.id);
    expect(busy.status).toBe(409);
    const sorted = [...names].sort();
    expect(busy.body.error).toBe(`Linux CI runner cannot be retired: 2 orders ${sorted[0]} and ${sorted[1]} still use it. Retire or cancel those orders first; hide the image to stop new orders meanwhile.`);
    const [unchanged] = await db.select().from(images).where(eq(images.id, image.id));
    expect(unchanged).toMatchObject({ active: true, retiredAt: null });
    expect(await catalogSlugs()).toContain(image.slug);

    // One environment destroyed: the other still holds it.
    const destroy = (id: string) => invoke(destroyRoute.POST, "POST", `/api/v1/orders/${id}/destroy`, { token: token.customer, params: { id } });
    expect((await destroy(ids[0]!)).status).toBeLessThan(300);
    await waitForOrder(db, ids[0]!, ["retired"]);
    const still = await retire(image.id);
    expect(still.status).toBe(409);
    expect(still.body.error).toContain(`order ${names[1]} still uses it`);

    expect((await destroy(ids[1]!)).status).toBeLessThan(300);
    await waitForOrder(db, ids[1]!, ["retired"]);
    const retired = await retire(image.id);
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    expect(retired.body).toMatchObject({ id: image.id, active: false, retiredAt: expect.any(String) });
    expect(await catalogSlugs()).not.toContain(image.slug);
    const [audit] = await auditOf("image.retire", image.id);
    expect(audit).toMatchObject({ actorId: admin.id, data: { slug: image.slug }, before: { active: true, retired: false }, after: { active: false, retired: true } });

    const change = await changeImage(image.id, { active: true });
    expect(change.status).toBe(409);
    expect(change.body.error).toBe("Linux CI runner is retired: it can no longer be changed");
    const twice = await retire(image.id);
    expect(twice.status).toBe(200);
    expect(twice.body.retiredAt).toBe(retired.body.retiredAt);
    expect(await auditOf("image.retire", image.id)).toHaveLength(1);
    // The orders that used it still show it.
    expect((await waitForOrder(db, ids[0]!, ["retired"])).image).toMatchObject({ id: image.id, name: "Linux CI runner" });
  });

  it("retiring is refused while an active course hands out machines of the image", async () => {
    const image = await newLinuxImage();
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const slug = unique("lab").slice(0, 20);
    const course = await invoke(coursesRoute.POST, "POST", "/api/v1/courses", {
      token: token.admin, body: { name: "Compilers lab", slug, image: image.slug, flavor: "small", startsOn: day(0), endsOn: day(30) },
    });
    expect(course.status, JSON.stringify(course.body)).toBe(201);
    const busy = await retire(image.id);
    expect(busy.status).toBe(409);
    expect(busy.body.error).toBe("Linux CI runner cannot be retired: course Compilers lab still hands out machines of it. End that course first; hide the image to stop new orders meanwhile.");
  });
});
