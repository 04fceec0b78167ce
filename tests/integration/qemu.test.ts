/**
 * Real guests on real QEMU (TCG): a customer orders the Linux QEMU image through the API and
 * the order turns ready only when the guest itself reports the portal's hostname, IPs and
 * MACs on its serial console; the host side pings it on its service address; stop, start
 * and destroy work on the real process and files; two orders at once get different addresses.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as cancelRoute from "@/app/api/v1/orders/[id]/cancel/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import { environments, hosts } from "@/lib/db/schema";
import { parseReadyLine } from "@/lib/drivers/qemu/glue";
import { bridgeName, pingFromHost, tapName } from "@/lib/drivers/qemu/netns";
import { cpuCapOf, cgroupName } from "@/lib/drivers/qemu/cgroup";
import { inCidr } from "@/lib/net/ipv4";
import { macForIp } from "@/lib/net/mac";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder, type Actor, waitForAction } from "../helpers/portal";
import { argvOf, guestFiles, hostKey, local, netnsName, qemuProcessesFor, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";

const { db } = await bootPortal();
let worker: RunningWorkers;
let qemu: QemuHosts;
let customer: Actor;
let token: string;
let otherToken: string;
let publicKey: string;
const keyDir = mkdtempSync("/tmp/pq-key-");
const isRoot = process.getuid?.() === 0;
const BOOT_MS = 240_000;

beforeAll(async () => {
  qemu = await setupQemuHosts(db, 2);
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  token = await tokenFor(db, customer);
  otherToken = await tokenFor(db, await makeUser(db, "customer", group.slug));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "qemu-test", "-f", path.join(keyDir, "id")]);
  publicKey = readFileSync(path.join(keyDir, "id.pub"), "utf8").trim();
  const put = await invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token, body: { sshPublicKey: publicKey } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  worker = await startWorkers();
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
});

async function orderQemu(name: string) {
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-qemu", flavor: "small", name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; status: string };
}

async function getOrder(id: string) {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token, params: { id } });
  expect(res.status).toBe(200);
  return res.body as {
    status: string;
    steps: { name: string; status: string; log: { line: string }[] }[];
    environment: { id: string; hostname: string; host: string; state: string; addresses: { network: string; purpose: string; ip: string; mac: string }[] };
  };
}

/** The PORTAL-READY lines the guest printed on its console, parsed. */
function readyReports(dir: string) {
  return readFileSync(guestFiles(dir).serialLog, "utf8")
    .split("\n")
    .map((l) => parseReadyLine(l))
    .filter((r) => r !== null);
}

const waitAction = (id: string) => waitForAction(db, id, BOOT_MS);

describe("QEMU guests", () => {
  let orderId: string;
  let hostname: string;
  let dir: string;

  it("an order for the QEMU Linux image boots a real guest that reports the portal's hostname, IPs and MACs", async () => {
    hostname = unique("qv");
    orderId = (await orderQemu(hostname)).id;
    await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
    const view = await getOrder(orderId);
    expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
    const env = view.environment;
    expect(env.hostname).toBe(hostname);
    expect(env.state).toBe("running");
    expect(qemu.hosts.map((h) => h.name)).toContain(env.host);
    dir = qemu.guestDir(env.host, hostname);

    // Exactly one QEMU process, with the flavor's memory and vCPUs and one NIC per address.
    const pids = await qemuProcessesFor(dir);
    expect(pids).toHaveLength(1);
    const argv = argvOf(pids[0]);
    expect(argv[argv.indexOf("-m") + 1]).toBe("1024");
    expect(argv[argv.indexOf("-smp") + 1]).toBe("1");
    for (const a of env.addresses) expect(argv.join(" ")).toContain(`mac=${a.mac}`);

    // The guest's own report equals what the portal shows.
    const reports = readyReports(dir);
    expect(reports.length).toBeGreaterThan(0);
    const report = reports.at(-1)!;
    expect(report.hostname).toBe(hostname);
    expect(report.nics.map((n) => `${n.mac} ${n.ip}`).sort()).toEqual(env.addresses.map((a) => `${a.mac} ${a.ip}`).sort());
    expect(report.diskBytes).toBe(10 * 1024 ** 3);
    for (const a of env.addresses) {
      expect(a.mac).toBe(macForIp(a.ip));
      expect(inCidr(a.ip, a.purpose === "service" ? "10.20.0.0/24" : "10.30.0.0/24")).toBe(true);
    }

    // The boot log reached the order page: kernel lines, init lines, then the ready line.
    const waitStep = view.steps.find((s) => s.name === "wait_ready")!;
    const lines = waitStep.log.map((l) => l.line);
    expect(lines.some((l) => /Linux version \d/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith("portal-init: "))).toBe(true);
    expect(lines.some((l) => l.startsWith("PORTAL-READY ") && l.includes(`hostname=${hostname}`))).toBe(true);

    // The glue carried the owner's key into the guest's initrd.
    const glue = gunzipSync(readFileSync(guestFiles(dir).glue)).toString("latin1");
    expect(glue).toContain(publicKey);
    expect(glue).toContain(`hostname ${hostname}`);
  }, BOOT_MS + 30_000);

  it("the host side reaches the guest on its service address through the host's bridge", async () => {
    if (!isRoot) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
    const env = (await getOrder(orderId)).environment;
    const host = qemu.hosts.find((h) => h.name === env.host)!;
    const service = env.addresses.find((a) => a.purpose === "service")!;
    const ns = netnsName(host);
    const links = execFileSync("ip", ["-n", ns, "-o", "link", "show", "master", bridgeName("10.20.0.0/24")]).toString();
    expect(links).toContain(tapName(service.ip));
    expect(await pingFromHost(local, ns, service.ip, 2)).toBe(true);
  }, 60_000);

  it("the QEMU process runs under a CPU quota of the flavor's CPUs (cgroup), the Linux analog of a capped container", async () => {
    const env = (await getOrder(orderId)).environment;
    const group = cgroupName(hostKey(qemu.hosts.find((h) => h.name === env.host)!), hostname);
    expect(await cpuCapOf(local, group)).toBe(1);
    const pid = (await qemuProcessesFor(dir))[0];
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(`/portal-qemu/${group}`);
  });

  it("stop powers the guest off, start boots it again and it reports in; the state allows only what makes sense", async () => {
    const envId = (await getOrder(orderId)).environment.id;
    const refused = await invoke(startRoute.POST, "POST", `/api/v1/environments/${envId}/start`, { token, params: { id: envId } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe("The environment is already running");
    const notYours = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token: otherToken, params: { id: envId } });
    expect(notYours.status).toBe(404);

    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token, params: { id: envId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    const again = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token, params: { id: envId } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already (queued|in progress)|already stopped/);
    const stopped = await waitAction(stop.body.id);
    expect(stopped.status, stopped.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment.state).toBe("stopped");
    expect(await qemuProcessesFor(dir)).toEqual([]);
    expect(existsSync(guestFiles(dir).disk)).toBe(true);

    const start = await invoke(startRoute.POST, "POST", `/api/v1/environments/${envId}/start`, { token, params: { id: envId } });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const started = await waitAction(start.body.id);
    expect(started.status, started.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment.state).toBe("running");
    expect(await qemuProcessesFor(dir)).toHaveLength(1);
    // A fresh boot: the console log was restarted and holds a new ready line.
    expect(readyReports(dir).at(-1)!.hostname).toBe(hostname);
    const env = (await getOrder(orderId)).environment;
    const host = qemu.hosts.find((h) => h.name === env.host)!;
    expect(await pingFromHost(local, netnsName(host), env.addresses.find((a) => a.purpose === "service")!.ip, 3)).toBe(true);
  }, 2 * BOOT_MS);

  it("destroy stops QEMU, removes the guest's files and taps, and frees its addresses", async () => {
    const env = (await getOrder(orderId)).environment;
    const host = qemu.hosts.find((h) => h.name === env.host)!;
    const res = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${orderId}/destroy`, { token, params: { id: orderId } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await waitForOrder(db, orderId, ["retired", "failed"], 120_000);
    expect((await getOrder(orderId)).status).toBe("retired");
    expect(await qemuProcessesFor(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    for (const a of env.addresses) {
      const r = execFileSync("ip", ["-n", netnsName(host), "-o", "link", "show"]).toString();
      expect(r).not.toContain(tapName(a.ip));
    }
    expect(await allocationsOf(db, orderId)).toEqual([]);
    const [row] = await db.select().from(environments).where(eq(environments.orderId, orderId));
    expect(row.state).toBe("deleted");
  }, 180_000);

  it("two orders at once get different addresses and each guest reports its own", async () => {
    const names = [unique("qa"), unique("qb")];
    const created = await Promise.all(names.map((n) => orderQemu(n)));
    await Promise.all(created.map((c) => waitForOrder(db, c.id, ["ready", "failed"], BOOT_MS)));
    const views = await Promise.all(created.map((c) => getOrder(c.id)));
    for (const v of views) expect(v.status, JSON.stringify(v.steps.find((s) => s.status === "failed"))).toBe("ready");
    const ips = views.flatMap((v) => v.environment.addresses.map((a) => a.ip));
    const macs = views.flatMap((v) => v.environment.addresses.map((a) => a.mac));
    expect(new Set(ips).size).toBe(4);
    expect(new Set(macs).size).toBe(4);
    for (const [i, v] of views.entries()) {
      const report = readyReports(qemu.guestDir(v.environment.host, names[i])).at(-1)!;
      expect(report.hostname).toBe(names[i]);
      expect(report.nics.map((n) => n.ip).sort()).toEqual(v.environment.addresses.map((a) => a.ip).sort());
    }
    for (const c of created) {
      const res = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${c.id}/destroy`, { token, params: { id: c.id } });
      expect(res.status).toBe(200);
    }
    await Promise.all(created.map((c) => waitForOrder(db, c.id, ["retired", "failed"], 120_000)));
    for (const [i, v] of views.entries()) expect(await qemuProcessesFor(qemu.guestDir(v.environment.host, names[i]))).toEqual([]);
  }, 2 * BOOT_MS);

  it("a guest that does not report in time fails the order at Wait until ready with the reason, and cancelling removes it", async () => {
    // The hosts give guests 1 s to report: far too short for a TCG boot.
    for (const h of qemu.hosts) await db.update(hosts).set({ config: { ...h.config, readyTimeoutMs: 1000 } as typeof h.config }).where(eq(hosts.id, h.id));
    try {
      const name = unique("qt");
      const created = await orderQemu(name);
      await waitForOrder(db, created.id, ["ready", "failed"], BOOT_MS);
      const view = await getOrder(created.id);
      expect(view.status).toBe("failed");
      const failed = view.steps.find((s) => s.status === "failed")!;
      expect(failed.name).toBe("wait_ready");
      expect((view as unknown as { reason: string }).reason).toBe('Step "Wait until ready" failed: the guest did not report PORTAL-READY within 1 s (see the boot log above)');
      const dir = qemu.guestDir(view.environment.host, name);
      expect(await qemuProcessesFor(dir)).toHaveLength(1);

      const cancel = await invoke(cancelRoute.POST, "POST", `/api/v1/orders/${created.id}/cancel`, { token, params: { id: created.id } });
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      await waitFor(async () => (await getOrder(created.id)).environment.state, (s) => s === "deleted", { timeoutMs: 120_000, what: "the teardown" });
      expect(await qemuProcessesFor(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      expect(await allocationsOf(db, created.id)).toEqual([]);
    } finally {
      for (const h of qemu.hosts) await db.update(hosts).set({ config: h.config }).where(eq(hosts.id, h.id));
    }
  }, BOOT_MS + 150_000);

  it("a host without bridged networking (not root, or configured so) runs the guest on QEMU's user network and says so", async () => {
    for (const h of qemu.hosts) await db.update(hosts).set({ config: { ...h.config, network: "user" } as typeof h.config }).where(eq(hosts.id, h.id));
    try {
      const name = unique("qu");
      const created = await orderQemu(name);
      await waitForOrder(db, created.id, ["ready", "failed"], BOOT_MS);
      const view = await getOrder(created.id);
      expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
      const networking = view.steps.find((s) => s.name === "networking")!.log.map((l) => l.line);
      expect(networking).toContain("user-mode networking (QEMU -netdev user): the host is configured for user-mode networking (config.network = user); the guest keeps its addresses but cannot be reached from the host");
      const dir = qemu.guestDir(view.environment.host, name);
      const argv = argvOf((await qemuProcessesFor(dir))[0]).join(" ");
      expect(argv).toContain("-netdev user,id=n0");
      expect(argv).not.toContain("ifname=");
      // The guest still configured the portal's addresses on its NICs.
      expect(readyReports(dir).at(-1)!.nics.map((n) => n.ip).sort()).toEqual(view.environment.addresses.map((a) => a.ip).sort());
      const res = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${created.id}/destroy`, { token, params: { id: created.id } });
      expect(res.status).toBe(200);
      await waitForOrder(db, created.id, ["retired", "failed"], 120_000);
      expect(await qemuProcessesFor(dir)).toEqual([]);
    } finally {
      for (const h of qemu.hosts) await db.update(hosts).set({ config: h.config }).where(eq(hosts.id, h.id));
    }
  }, BOOT_MS + 150_000);
});
