/**
 * Applications, not just machines, on real QEMU guests (TCG): two guests of one group on one
 * host, A on the production network and B on a second production network, both also on the
 * service network. Both are web services (the web recipe) serving a page titled with their name.
 * A service IP reserved on the service network answers with A's page from the
 * host's side of the guest network once attached to A, with B's page once moved to B (the
 * move records the downtime the host saw), and stays on B across a stop and start.
 * Separated networks: forwarding is on in the host's namespace, yet A cannot ping B's
 * production address (nor its service-network address, ever) until an admin marks the two networks as routed, and cannot again once
 * the route is removed.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as routesRoute from "@/app/api/v1/networks/[id]/routes/route";
import * as routeRoute from "@/app/api/v1/networks/[id]/routes/[other]/route";
import * as serviceIpsRoute from "@/app/api/v1/service-ips/route";
import * as serviceIpRoute from "@/app/api/v1/service-ips/[id]/route";
import * as attachRoute from "@/app/api/v1/service-ips/[id]/attach/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import { auditEvents, networks } from "@/lib/db/schema";
import { parseReadyLine } from "@/lib/drivers/qemu/glue";
import { inCidr } from "@/lib/net/ipv4";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForAction, waitForOrder } from "../helpers/portal";
import { guestFiles, local, netnsName, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";
import { pingFromHost } from "@/lib/drivers/qemu/netns";
import { guestSsh, putOwnerKey } from "../helpers/guest-ssh";

const run = promisify(execFile);
const { db, admin } = await bootPortal();
const BOOT_MS = 300_000;
const keyDir = mkdtempSync("/tmp/pq-sip-");
const ownerKey = path.join(keyDir, "owner");
const knownHosts = path.join(keyDir, "known_hosts");
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: string;
let adminToken: string;
let netns: string;

type Guest = { orderId: string; environmentId: string; hostname: string; host: string; service: string; production: string };
const guests: Record<"a" | "b", Guest> = {} as Record<"a" | "b", Guest>;
let serviceIp: { id: string; ip: string };

/** A web service whose recipe serves a page titled with its name (at every boot). */
async function orderGuest(network: string): Promise<Guest> {
  const hostname = unique("sip");
  const body = { image: "web-qemu", flavor: "small", name: hostname, network, recipe: { title: `served by ${hostname}` } };
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await waitForOrder(db, res.body.id, ["ready", "failed"], BOOT_MS);
  const view = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${res.body.id}`, { token, params: { id: res.body.id } });
  expect(view.body.status, JSON.stringify(view.body.steps?.find((s: { status: string }) => s.status === "failed"))).toBe("ready");
  const env = view.body.environment as { id: string; host: string; addresses: { purpose: string; network: string; ip: string }[] };
  return {
    orderId: res.body.id, environmentId: env.id, hostname, host: env.host,
    service: env.addresses.find((a) => a.purpose === "service")!.ip,
    production: env.addresses.find((a) => a.network === network)!.ip,
  };
}

const ssh = (g: Guest, command: string) => guestSsh({ netns, address: g.service, key: ownerKey, knownHosts }, command);

/**
 * The page at http://<ip>/ as the host's side of the guest network gets it: an HTTP GET from
 * inside the host's network namespace (node's own client: Debian's static busybox wget crashes).
 */
const httpGet = `require("http").get(process.argv[1], { timeout: 5000 }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => process.stdout.write(b)); }).on("error", (e) => { console.error(e.message); process.exit(1); }).on("timeout", function () { this.destroy(new Error("timed out")); });`;
async function fetchFromHost(ip: string): Promise<string> {
  const { stdout } = await run("ip", ["netns", "exec", netns, process.execPath, "-e", httpGet, `http://${ip}/`], { timeout: 20_000 });
  return stdout;
}

async function pingFromGuest(from: Guest, to: string): Promise<number> {
  return (await ssh(from, `ping -c 1 -W 2 ${to} >/dev/null 2>&1; echo $?`)).stdout.trim() === "0" ? 0 : 1;
}


async function attach(environment: string) {
  const res = await invoke(attachRoute.POST, "POST", `/api/v1/service-ips/${serviceIp.id}/attach`, { token, params: { id: serviceIp.id }, body: { environment } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const done = await waitForAction(db, res.body.actionId, 120_000);
  expect(done.status, done.error ?? "").toBe("succeeded");
  return (await invoke(serviceIpRoute.GET, "GET", `/api/v1/service-ips/${serviceIp.id}`, { token, params: { id: serviceIp.id } })).body;
}

const isolationTable = async () => (await run("ip", ["netns", "exec", netns, "nft", "list", "table", "inet", "portal_isolation"])).stdout;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  qemu = await setupQemuHosts(db, 1);
  netns = netnsName(qemu.hosts[0]!);
  const group = await makeGroup(db, { autoApprove: true });
  token = await tokenFor(db, await makeUser(db, "customer", group.slug));
  adminToken = await tokenFor(db, admin);
  await putOwnerKey(token, ownerKey);
  const net = await invoke(networksRoute.POST, "POST", "/api/v1/networks", {
    token: adminToken,
    body: { slug: "production-b", name: "Production B", purpose: "production", cidr: "10.31.0.0/24", gateway: "10.31.0.1", bridge: "xenbr3" },
  });
  expect(net.status, JSON.stringify(net.body)).toBe(201);
  worker = await startWorkers();
  // Two web services: each page comes from its recipe at every boot, also after a service IP
  // changed the guest's configuration (the glue with the recipe is kept).
  [guests.a, guests.b] = await Promise.all([orderGuest("production"), orderGuest("production-b")]);
  const pins = (["a", "b"] as const).map((k) => {
    const keyLine = [...readFileSync(guestFiles(qemu.guestDir(guests[k].host, guests[k].hostname)).serialLog, "utf8").matchAll(/portal-init: SSH host key (ssh-ed25519 [A-Za-z0-9+/=]+)/g)].at(-1)![1];
    return `${guests[k].service} ${keyLine}`;
  });
  writeFileSync(knownHosts, `${pins.join("\n")}\n`);
}, 2 * BOOT_MS);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
}, 60_000);

describe("a service IP that moves between real guests", () => {
  it("reserved on the service network and attached to A, it answers with A's page from the host's side", async () => {
    const res = await invoke(serviceIpsRoute.POST, "POST", "/api/v1/service-ips", { token, body: { network: "service", name: "web" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    serviceIp = res.body;
    expect(inCidr(serviceIp.ip, "10.20.0.0/24")).toBe(true);
    expect([guests.a.service, guests.b.service]).not.toContain(serviceIp.ip);

    const view = await attach(guests.a.environmentId);
    expect(view.environment).toMatchObject({ id: guests.a.environmentId, name: guests.a.hostname });
    expect(view.lastMove).toMatchObject({ kind: "attach", status: "succeeded", to: { id: guests.a.environmentId } });
    expect(await fetchFromHost(serviceIp.ip)).toContain(`<title>served by ${guests.a.hostname}</title>`);
    // The guest holds it as /32 on its service NIC.
    expect((await ssh(guests.a, "ip -4 -o addr show")).stdout).toContain(` ${serviceIp.ip}/32 `);
  }, 180_000);

  it("moved to B in one step, it answers with B's page; the move records the downtime the host saw", async () => {
    const view = await attach(guests.b.hostname);
    expect(view.environment).toMatchObject({ id: guests.b.environmentId });
    const move = view.lastMove;
    expect(move).toMatchObject({ kind: "move", status: "succeeded", from: { id: guests.a.environmentId }, to: { id: guests.b.environmentId } });
    expect(move.downtimeMs).toBeGreaterThan(0);
    expect(move.downtimeMs).toBeLessThanOrEqual(move.totalMs + 1000);
    expect(move.note).toContain("ping every 20 ms from the host's network namespace");
    console.log(`[service IP move] ${serviceIp.ip} from ${guests.a.hostname} to ${guests.b.hostname}: downtime ${move.downtimeMs} ms, move ${move.totalMs} ms`);
    expect(await fetchFromHost(serviceIp.ip)).toContain(`<title>served by ${guests.b.hostname}</title>`);
    expect((await ssh(guests.a, "ip -4 -o addr show")).stdout).not.toContain(` ${serviceIp.ip}/32 `);
    const [audited] = await db.select().from(auditEvents).where(and(eq(auditEvents.action, "service_ip.moved"), eq(auditEvents.targetId, serviceIp.id)));
    expect(audited?.data).toMatchObject({ ip: serviceIp.ip, downtimeMs: move.downtimeMs, from: { name: guests.a.hostname }, to: { name: guests.b.hostname } });
  }, 180_000);

  it("stays on B across a stop and start", async () => {
    const b = guests.b;
    for (const [route, path_] of [[stopRoute, "stop"], [startRoute, "start"]] as const) {
      const res = await invoke(route.POST, "POST", `/api/v1/environments/${b.environmentId}/${path_}`, { token, params: { id: b.environmentId } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const done = await waitForAction(db, res.body.id, BOOT_MS);
      expect(done.status, done.error ?? "").toBe("succeeded");
    }
    const log = readFileSync(guestFiles(qemu.guestDir(b.host, b.hostname)).serialLog, "utf8");
    const ready = log.split("\n").map(parseReadyLine).filter((r) => r !== null).at(-1)!;
    expect(ready.serviceIps).toEqual([serviceIp.ip]);
    expect(ready.recipe).toEqual({ name: expect.stringMatching(/^web\//), check: "ok" });
    // Back up means answering: the page through the address, waited for (bounded) since the host
    // may still resolve the address while the guest's announcement arrives.
    const page = await waitFor(() => fetchFromHost(serviceIp.ip).catch((err: Error) => err.message), (p) => p.includes("<title>"), { timeoutMs: 30_000, intervalMs: 500, what: `${serviceIp.ip} to answer` });
    expect(page).toContain(`<title>served by ${b.hostname}</title>`);
  }, 2 * BOOT_MS);
});

describe("separated networks on one host", () => {
  it("A reaches B's production address only while an admin has the two networks routed", async () => {
    const [forwarding] = (await run("ip", ["netns", "exec", netns, "sysctl", "-n", "net.ipv4.ip_forward"])).stdout.split("\n");
    expect(forwarding).toBe("1");
    expect(await pingFromGuest(guests.a, guests.b.production)).not.toBe(0);
    // Both guests also sit on the service network: its ports are isolated, so that is no way round.
    expect(await pingFromGuest(guests.a, guests.b.service)).not.toBe(0);
    expect(await pingFromHost(local, netns, guests.b.service)).toBe(true);

    const [production] = await db.select().from(networks).where(eq(networks.slug, "production"));
    const added = await invoke(routesRoute.POST, "POST", `/api/v1/networks/${production!.id}/routes`, { token: adminToken, params: { id: production!.id }, body: { network: "production-b" } });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    await waitFor(isolationTable, (t) => t.includes("routed production to production-b"), { timeoutMs: 60_000, what: "the route in the host's namespace" });
    expect(await pingFromGuest(guests.a, guests.b.production)).toBe(0);

    const removed = await invoke(routeRoute.DELETE, "DELETE", `/api/v1/networks/${production!.id}/routes/production-b`, {
      token: adminToken, params: { id: production!.id, other: "production-b" },
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    await waitFor(isolationTable, (t) => !t.includes("routed production"), { timeoutMs: 60_000, what: "the route to be gone from the host's namespace" });
    expect(await pingFromGuest(guests.a, guests.b.production)).not.toBe(0);
  }, 120_000);
});
