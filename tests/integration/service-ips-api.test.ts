/**
 * Service IPs and network routes through the API on real PostgreSQL, Redis and workers, with
 * simulated hosts: bad input is refused with the field named and changes nothing; who may see
 * and change a group's service IP; attaching to a stopped environment or one on another
 * network is refused with a clear message; attach, move in one step, detach and release, each
 * recorded and audited; a retired environment lets go of its service IPs; routes are for admins
 * and reach the hosts.
 */
import { and, count, eq, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as serviceIpsRoute from "@/app/api/v1/service-ips/route";
import * as serviceIpRoute from "@/app/api/v1/service-ips/[id]/route";
import * as attachRoute from "@/app/api/v1/service-ips/[id]/attach/route";
import * as detachRoute from "@/app/api/v1/service-ips/[id]/detach/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as routesRoute from "@/app/api/v1/networks/[id]/routes/route";
import * as routeRoute from "@/app/api/v1/networks/[id]/routes/[other]/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import { auditEvents, environments, ipAllocations, networks, serviceIpMoves, serviceIps, simObjects } from "@/lib/db/schema";
import { inCidr } from "@/lib/net/ipv4";
import { orderView } from "@/lib/orders/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForAction, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let owner: Actor, student: Actor, outsider: Actor;
let ownerToken: string, studentToken: string, outsiderToken: string, adminToken: string;
/** The owner's environments A and B (service and production networks), and the outsider's. */
const env = { a: { orderId: "", id: "", name: "" }, b: { orderId: "", id: "", name: "" }, other: { orderId: "", id: "", name: "" } };

async function ready(actor: Actor) {
  const o = await order(db, actor);
  const view = await waitForOrder(db, o.id, ["ready", "failed"]);
  expect(view.status).toBe("ready");
  return { orderId: o.id, id: view.environment!.id, name: view.environment!.hostname };
}

const counts = async () => ({
  serviceIps: (await db.select({ n: count() }).from(serviceIps))[0]!.n,
  allocations: (await db.select({ n: count() }).from(ipAllocations))[0]!.n,
});

const reserve = (token: string, body: unknown) => invoke(serviceIpsRoute.POST, "POST", "/api/v1/service-ips", { token, body });
const get = (token: string, id: string) => invoke(serviceIpRoute.GET, "GET", `/api/v1/service-ips/${id}`, { token, params: { id } });
const attach = (token: string, id: string, body: unknown) => invoke(attachRoute.POST, "POST", `/api/v1/service-ips/${id}/attach`, { token, params: { id }, body });
const detach = (token: string, id: string) => invoke(detachRoute.POST, "POST", `/api/v1/service-ips/${id}/detach`, { token, params: { id } });
const release = (token: string, id: string) => invoke(serviceIpRoute.DELETE, "DELETE", `/api/v1/service-ips/${id}`, { token, params: { id } });

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  const elsewhere = await makeGroup(db, { autoApprove: true });
  owner = await makeUser(db, "customer", group.slug);
  student = await makeUser(db, "student", group.slug);
  outsider = await makeUser(db, "customer", elsewhere.slug);
  [ownerToken, studentToken, outsiderToken, adminToken] = await Promise.all([owner, student, outsider, admin].map((a) => tokenFor(db, a)));
  worker = await startWorkers();
  [env.a, env.b, env.other] = await Promise.all([ready(owner), ready(owner), ready(outsider)]);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

describe("reserving a service IP", () => {
  it("refuses bad input with the field named and changes nothing", async () => {
    const before = await counts();
    const bad: [unknown, string][] = [
      [{ network: "service", name: "Web Front" }, "name"],
      [{ network: "service", name: "w" }, "name"],
      [{ network: "service", name: "web\u0000" }, "name"],
      [{ network: "service", name: "web", colour: "red" }, "colour"],
      [{ network: "no-such-net", name: "web" }, "network"],
      [{ name: "web" }, "network"],
      [{ network: "service", name: "web", group: "not-my-group" }, "group"],
      [["service", "web"], "_"],
    ];
    for (const [body, field] of bad) {
      const res = await reserve(ownerToken, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.fields ?? {}), JSON.stringify(res.body)).toContain(field);
    }
    const text = await invoke(serviceIpsRoute.POST, "POST", "/api/v1/service-ips", { token: ownerToken, body: "network=service", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(await counts()).toEqual(before);
  });

  it("gives the group the lowest free address of the network, held by no order; the name is the group's once", async () => {
    const res = await reserve(ownerToken, { network: "service", name: "web" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: "web", network: { slug: "service" }, environment: null, pending: null });
    expect(inCidr(res.body.ip, "10.20.0.0/24")).toBe(true);
    const [held] = await db.select().from(ipAllocations).where(eq(ipAllocations.ip, res.body.ip));
    expect(held).toMatchObject({ kind: "service", orderId: null, serviceIpId: res.body.id });
    // No guest gets it afterwards.
    const later = await ready(owner);
    expect((await allocationsOf(db, later.orderId)).map((a) => a.ip)).not.toContain(res.body.ip);

    const again = await reserve(ownerToken, { network: "service", name: "web" });
    expect(again.status).toBe(409);
    expect(again.body.fields.name[0]).toMatch(/already has a service IP named web/);
  });
});

describe("who may see and change a service IP", () => {
  let id: string;
  beforeAll(async () => {
    id = (await reserve(ownerToken, { network: "service", name: unique("who") })).body.id;
  });

  it("members see it; others get 404 as if it did not exist", async () => {
    expect((await get(ownerToken, id)).status).toBe(200);
    expect((await get(studentToken, id)).status).toBe(200);
    expect((await get(adminToken, id)).status).toBe(200);
    expect((await get(outsiderToken, id)).status).toBe(404);
    const listed = await invoke(serviceIpsRoute.GET, "GET", "/api/v1/service-ips", { token: outsiderToken });
    expect(listed.body.serviceIps.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await attach(outsiderToken, id, { environment: env.other.id })).status).toBe(404);
    expect((await release(outsiderToken, id)).status).toBe(404);
  });

  it("a student of the group may look but not change it", async () => {
    const res = await attach(studentToken, id, { environment: env.a.id });
    expect(res.status).toBe(403);
    expect((await reserve(studentToken, { network: "service", name: unique("mine") })).status).toBe(403);
  });

  it("an environment of another group is refused: 404 to whoever may not see it, 403 to an admin who may", async () => {
    const hidden = await attach(ownerToken, id, { environment: env.other.id });
    expect(hidden.status).toBe(404);
    expect(hidden.body.fields.environment[0]).toMatch(/No environment/);
    const other = await attach(adminToken, id, { environment: env.other.name });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/belongs to another group/);
    expect((await get(ownerToken, id)).body.environment).toBeNull();
  });
});

describe("attaching, moving, detaching and releasing", () => {
  let sip: { id: string; ip: string; name: string };
  beforeAll(async () => {
    sip = (await reserve(ownerToken, { network: "service", name: unique("app") })).body;
  });

  it("refuses an environment on another network (422) and a stopped one (409), saying why", async () => {
    const net = await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
      token: adminToken, body: { slug: unique("lab"), name: "Lab", purpose: "production", cidr: "10.44.0.0/24", gateway: "10.44.0.1", bridge: "xenbr4" },
    });
    expect(net.status, JSON.stringify(net.body)).toBe(201);
    const elsewhere = await reserve(ownerToken, { network: net.body.slug, name: unique("lab") });
    expect(elsewhere.status).toBe(201);
    const mismatch = await attach(ownerToken, elsewhere.body.id, { environment: env.a.id });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.fields.environment[0]).toBe(`${env.a.name} has no address on network Lab, where service IP ${elsewhere.body.name} (${elsewhere.body.ip}) is`);

    const stopped = await ready(owner);
    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${stopped.id}/stop`, { token: ownerToken, params: { id: stopped.id } });
    expect((await waitForAction(db, stop.body.id)).status).toBe("succeeded");
    const refused = await attach(ownerToken, sip.id, { environment: stopped.id });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe(`${stopped.name} is stopped; a service IP can be attached only to a running environment (start it first)`);
    expect((await get(ownerToken, sip.id)).body).toMatchObject({ environment: null, lastMove: null });
  });

  it("attaches to a running environment of the group (the order page shows it); asking again changes nothing", async () => {
    const res = await attach(ownerToken, sip.id, { environment: env.a.name });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.pending).toMatchObject({ kind: "attach", to: { id: env.a.id } });
    expect((await waitForAction(db, res.body.actionId)).status).toBe("succeeded");
    const view = (await get(ownerToken, sip.id)).body;
    expect(view).toMatchObject({ environment: { id: env.a.id, name: env.a.name }, pending: null, lastMove: { kind: "attach", status: "succeeded" } });
    const [onHost] = await db.select().from(simObjects).where(and(eq(simObjects.kind, "service-ip"), eq(simObjects.name, sip.ip)));
    expect(onHost?.state).toBe(`on ${env.a.name}`);
    expect((await orderView(db, env.a.orderId)).environment!.serviceIps.map((s) => s.ip)).toContain(sip.ip);

    const again = await attach(ownerToken, sip.id, { environment: env.a.id });
    expect(again.status).toBe(200);
    expect(again.body.moveId).toBeNull();
  });

  it("refuses to release it while attached", async () => {
    const res = await release(ownerToken, sip.id);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe(`Service IP ${sip.name} (${sip.ip}) is attached to ${env.a.name}; detach it first`);
  });

  it("attaching it to another environment moves it in one step, recorded and audited", async () => {
    // One change at a time: while one is queued, another is refused.
    const [queued] = await db.insert(serviceIpMoves).values({ serviceIpId: sip.id, kind: "detach", fromEnvironmentId: env.a.id }).returning();
    const meanwhile = await attach(ownerToken, sip.id, { environment: env.b.id });
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error).toBe(`A detach of service IP ${sip.name} is already queued; wait until it is done`);
    await db.delete(serviceIpMoves).where(eq(serviceIpMoves.id, queued!.id));

    const res = await attach(ownerToken, sip.id, { environment: env.b.id });
    expect(res.status).toBe(202);
    expect((await waitForAction(db, res.body.actionId)).status).toBe("succeeded");
    const view = (await get(ownerToken, sip.id)).body;
    expect(view.environment.id).toBe(env.b.id);
    expect(view.moves[0]).toMatchObject({ kind: "move", status: "succeeded", from: { id: env.a.id }, to: { id: env.b.id }, downtimeMs: null });
    expect(view.moves[0].note).toMatch(/not measured: sim hosts/);
    expect(view.moves[0].totalMs).toBeGreaterThanOrEqual(0);
    // A and B may be on different hosts: the address is held on B's, and let go (deleted) on A's.
    const onHosts = await db.select().from(simObjects).where(and(eq(simObjects.kind, "service-ip"), eq(simObjects.name, sip.ip)));
    expect(onHosts.filter((o) => o.state !== "deleted").map((o) => o.state)).toEqual([`on ${env.b.name}`]);
    const audited = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, sip.id));
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(["service_ip.reserve", "service_ip.attach", "service_ip.attached", "service_ip.move", "service_ip.moved"]));
  });

  it("detaches and releases it; its address goes back to the network", async () => {
    const res = await detach(ownerToken, sip.id);
    expect(res.status).toBe(202);
    expect((await waitForAction(db, res.body.actionId)).status).toBe("succeeded");
    expect((await get(ownerToken, sip.id)).body).toMatchObject({ environment: null, lastMove: { kind: "detach", status: "succeeded", from: { id: env.b.id } } });
    expect((await detach(ownerToken, sip.id)).status).toBe(409);
    const gone = await release(ownerToken, sip.id);
    expect(gone.status).toBe(200);
    expect(await db.select().from(ipAllocations).where(eq(ipAllocations.ip, sip.ip))).toEqual([]);
    expect((await get(ownerToken, sip.id)).status).toBe(404);
  });

  it("an environment that is destroyed lets go of its service IPs, which stay the group's", async () => {
    const kept = (await reserve(ownerToken, { network: "service", name: unique("kept") })).body;
    const res = await attach(ownerToken, kept.id, { environment: env.b.id });
    expect((await waitForAction(db, res.body.actionId)).status).toBe("succeeded");
    const destroy = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${env.b.orderId}/destroy`, { token: ownerToken, params: { id: env.b.orderId } });
    expect(destroy.status, JSON.stringify(destroy.body)).toBeLessThan(300);
    await waitForOrder(db, env.b.orderId, ["retired"]);
    expect((await get(ownerToken, kept.id)).body).toMatchObject({ environment: null, ip: kept.ip });
    expect(await db.select().from(environments).where(and(eq(environments.id, env.b.id), isNotNull(environments.deletedAt)))).toHaveLength(1);
  });
});

describe("routes between networks", () => {
  it("only admins route networks; a change reaches the hosts; separating twice is a 404", async () => {
    const [production] = await db.select().from(networks).where(eq(networks.slug, "production"));
    const path = `/api/v1/networks/${production!.id}/routes`;
    const params = { id: production!.id };
    expect((await invoke(routesRoute.POST, "POST", path, { token: ownerToken, params, body: { network: "service" } })).status).toBe(403);
    const self = await invoke(routesRoute.POST, "POST", path, { token: adminToken, params, body: { network: "production" } });
    expect(self.status).toBe(422);
    expect(self.body.fields.network[0]).toMatch(/another network/);
    expect((await invoke(routesRoute.POST, "POST", path, { token: adminToken, params, body: { network: "nowhere" } })).status).toBe(422);
    expect((await invoke(routesRoute.POST, "POST", path, { token: adminToken, params, body: { network: "service", via: "x" } })).status).toBe(422);

    const added = await invoke(routesRoute.POST, "POST", path, { token: adminToken, params, body: { network: "service" } });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect((await invoke(routesRoute.POST, "POST", path, { token: adminToken, params, body: { network: "service" } })).status).toBe(200);
    const listed = await invoke(routesRoute.GET, "GET", path, { token: adminToken, params });
    expect(listed.body.routes.map((r: { networks: { slug: string }[] }) => r.networks.map((n) => n.slug).sort())).toEqual([["production", "service"]]);
    // The sim hosts record what they were told to forward.
    await waitFor(
      async () => db.select({ state: simObjects.state }).from(simObjects).where(and(eq(simObjects.kind, "network-policy"), eq(simObjects.name, "forward"))),
      (rows) => rows.length > 0 && rows.every((r) => r.state === "routed:production<->service"),
      { what: "the sim hosts to apply the route" },
    );

    const del = (token: string) => invoke(routeRoute.DELETE, "DELETE", `${path}/service`, { token, params: { ...params, other: "service" } });
    expect((await del(ownerToken)).status).toBe(403);
    expect((await del(adminToken)).status).toBe(200);
    expect((await del(adminToken)).status).toBe(404);
    await waitFor(
      async () => db.select({ state: simObjects.state }).from(simObjects).where(and(eq(simObjects.kind, "network-policy"), eq(simObjects.name, "forward"))),
      (rows) => rows.every((r) => r.state === "routed:none"),
      { what: "the sim hosts to drop the route" },
    );
    const audited = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, production!.id));
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(["network.route", "network.unroute"]));
  });

  it("lists service IPs a page at a time, like the other lists", async () => {
    const first = await invoke(serviceIpsRoute.GET, "GET", "/api/v1/service-ips?limit=1", { token: ownerToken });
    expect(first.status).toBe(200);
    expect(first.body.serviceIps).toHaveLength(1);
    expect(first.headers.get("link")).toContain("cursor=");
    const next = await invoke(serviceIpsRoute.GET, "GET", `/api/v1/service-ips?limit=1&cursor=${first.body.nextCursor}`, { token: ownerToken });
    expect(next.body.serviceIps[0].name > first.body.serviceIps[0].name).toBe(true);
    expect((await invoke(serviceIpsRoute.GET, "GET", "/api/v1/service-ips?cursor=nonsense", { token: ownerToken })).status).toBe(422);
  });
});
