/**
 * A QEMU host reached over SSH, for real: an sshd on loopback whose login user is not root,
 * registered through the API like an admin does (key, Test connection pins the host key,
 * driver settings, activate). A customer's order for "Linux (QEMU)" lands on it, every step
 * runs over SSH (commands, SFTP, QMP and the serial console through streamlocal forwarding),
 * QEMU runs as the SSH user on user-mode networking (no root for bridges), stop, start and
 * destroy work over SSH, and a host whose key changed is refused with the reason on the order.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import * as testRoute from "@/app/api/v1/hosts/[id]/test/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import * as migrateRoute from "@/app/api/v1/environments/[id]/migrate/route";
import { hosts } from "@/lib/db/schema";
import { parseReadyLine } from "@/lib/drivers/qemu/glue";
import { driverFor } from "@/lib/pipeline/drivers";
import { guestFiles } from "@/lib/drivers/qemu/args";
import { guestPids } from "@/lib/drivers/qemu/process";
import { closeSshConnections, type Transport } from "@/lib/drivers/transport";
import { transportForHost } from "@/lib/pipeline/drivers";
import { goldenPaths } from "@/lib/drivers/images/store";
import { registerBuiltImages } from "@/lib/catalog/register-images";
import { deploySpec, loadOrderContext } from "@/lib/pipeline/context";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { ensureTestImages, testImageStore } from "../helpers/images";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder, waitForAction } from "../helpers/portal";
import { killQemuUnder, local, requireQemu } from "../helpers/qemu-hosts";
import { startSshd, type RunningSshd } from "../helpers/sshd";

const { db, admin } = await bootPortal();
const BOOT_MS = 240_000;
let sshd: RunningSshd;
let worker: RunningWorkers;
let store: string;
let hostId: string;
let hostName: string;
let ssh: Transport;
const token = { admin: "", customer: "" };

type OrderView = {
  status: string;
  reason: string | null;
  steps: { name: string; status: string; log: { line: string }[] }[];
  environment: { id: string; hostname: string; host: string; state: string; addresses: { ip: string; mac: string }[] } | null;
};

beforeAll(async () => {
  requireQemu();
  sshd = await startSshd({ port: 2241 });
  // The golden image, built (or reused) by the images library, copied into a store the SSH user owns.
  await ensureTestImages();
  await registerBuiltImages(db, local, testImageStore);
  store = mkdtempSync("/tmp/pqs-store-");
  const golden = goldenPaths(store, "linux-qemu").dir;
  execFileSync("mkdir", ["-p", path.dirname(golden)]);
  execFileSync("cp", ["-a", goldenPaths(testImageStore, "linux-qemu").dir, golden]);
  execFileSync("chown", ["-R", `${sshd.user}:`, store]);

  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug));
  // Only the SSH host takes QEMU orders in this test's database.
  await db.update(hosts).set({ state: "draining" }).where(eq(hosts.kind, "qemu"));
  worker = await startWorkers();
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await closeSshConnections();
  // Any QEMU left under the SSH user's work folder (a failed test).
  if (sshd) killQemuUnder(sshd.workDir);
  await sshd?.stop();
  if (store) rmSync(store, { recursive: true, force: true });
});

async function getOrder(id: string): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token: token.customer, params: { id } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

async function orderQemu(name: string): Promise<string> {
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.customer, body: { image: "linux-qemu", flavor: "small", name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { id: string }).id;
}

const waitAction = (id: string) => waitForAction(db, id, BOOT_MS);

/** The PORTAL-READY lines on the guest's console log, read on the host over SSH. */
async function readyReports(dir: string) {
  const log = await ssh.readFile(guestFiles(dir).serialLog);
  return (log?.toString("utf8") ?? "").split("\n").map((l) => parseReadyLine(l)).filter((r) => r !== null);
}

/** Names in a folder on this machine (the SSH host), empty when it does not exist. */
async function ls(dir: string): Promise<string[]> {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The user a process runs as, from ps (the SSH host is this machine). */
function processUser(pid: number): string {
  return execFileSync("ps", ["-o", "user=", "-p", String(pid)]).toString().trim();
}

describe("a QEMU host reached over SSH", () => {
  let orderId: string;
  let hostname: string;
  let dir: string;

  it("an admin registers it with its SSH key and driver settings, Test connection pins the key, and it is activated", async () => {
    hostName = unique("kvm-ssh");
    const config = { workDir: sshd.workDir, imageStore: store, network: "user", readyTimeoutMs: 150_000, stopGraceMs: 15_000 };
    const res = await invoke(hostsRoute.POST, "POST", "/api/v1/hosts", {
      token: token.admin,
      body: { name: hostName, kind: "qemu", address: sshd.host, port: sshd.port, sshUser: sshd.user, privateKey: sshd.privateKey, config },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    hostId = res.body.id;
    expect(res.body.settings).toMatchObject(config);
    // Guests on it do not move live (that needs hosts of the portal's own machine).
    expect(res.body.features).toEqual(["vms"]);

    const tested = await invoke(testRoute.POST, "POST", `/api/v1/hosts/${hostId}/test`, { token: token.admin, params: { id: hostId } });
    expect(tested.status).toBe(200);
    expect(tested.body.ok, tested.body.error).toBe(true);
    expect(tested.body.hostKey).toEqual({ fingerprint: sshd.hostKeyFingerprint, pinnedNow: true });
    expect(tested.body.check.facts.version).toMatch(/^QEMU emulator version \d+/);
    // What the driver may do as that user, said before the first order.
    expect(tested.body.check.facts.details).toEqual(
      expect.arrayContaining([
        `login user ${sshd.user} is not root: guests run as ${sshd.user} on QEMU's user-mode network, without CPU quotas`,
        `work folder ${sshd.workDir}: writable by ${sshd.user}`,
        `image store ${store}: ${sshd.user} can pack images there`,
      ]),
    );

    const activated = await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: token.admin, params: { id: hostId }, body: { state: "active" } });
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body.state).toBe("active");
    ssh = await transportForHost(db, hostId);
  });

  it("bad driver settings are refused per field and change nothing", async () => {
    const res = await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, {
      token: token.admin,
      params: { id: hostId },
      body: { config: { workDir: "/tmp/x; reboot", network: "bridged" } },
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.fields).sort()).toEqual(["config.network", "config.workDir"]);
    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect((row.config as { workDir: string }).workDir).toBe(sshd.workDir);
  });

  it("an order for the QEMU Linux image runs every step over SSH; the guest runs as the SSH user and reports the portal's hostname, IPs and MACs", async () => {
    hostname = unique("qs");
    orderId = await orderQemu(hostname);
    await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
    const view = await getOrder(orderId);
    expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
    const env = view.environment!;
    expect(env.host).toBe(hostName);
    expect(env.state).toBe("running");
    dir = path.join(sshd.workDir, "guests", hostname);

    // The steps said where they ran, and networking explained the user-mode fallback.
    const lines = (name: string) => view.steps.find((s) => s.name === name)!.log.map((l) => l.line);
    expect(lines("resolve")).toContain(`${hostName} via ssh ${sshd.user}@127.0.0.1:${sshd.port}: image store ${store}, work folder ${sshd.workDir}`);
    expect(lines("networking").some((l) => l.startsWith("user-mode networking (QEMU -netdev user)"))).toBe(true);
    expect(lines("wait_ready").some((l) => l.startsWith("PORTAL-READY ") && l.includes(`hostname=${hostname}`))).toBe(true);
    // No CPU quota without root on the host: said, not failed.
    expect(lines("boot").filter((l) => l.startsWith("no CPU quota on the QEMU process: ")), lines("boot").join("\n")).toHaveLength(1);

    // One QEMU for the guest, found over SSH, running as the SSH user with user-mode NICs.
    const pids = await guestPids(ssh, dir);
    expect(pids).toHaveLength(1);
    expect(processUser(pids[0])).toBe(sshd.user);
    const argv = (await ssh.readFile(`/proc/${pids[0]}/cmdline`))!.toString("utf8").split("\0").join(" ");
    expect(argv).toContain("-netdev user,id=n0");
    for (const a of env.addresses) expect(argv).toContain(`mac=${a.mac}`);
    // Its files belong to the SSH user.
    expect(execFileSync("stat", ["-c", "%U", guestFiles(dir).disk]).toString().trim()).toBe(sshd.user);

    const report = (await readyReports(dir)).at(-1)!;
    expect(report.hostname).toBe(hostname);
    expect(report.nics.map((n) => `${n.mac} ${n.ip}`).sort()).toEqual(env.addresses.map((a) => `${a.mac} ${a.ip}`).sort());

  }, BOOT_MS + 30_000);

  it("stop and start work over SSH: QMP powers the guest off, a new QEMU as the SSH user boots and reports in", async () => {
    const envId = (await getOrder(orderId)).environment!.id;
    const before = (await guestPids(ssh, dir))[0];
    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token: token.customer, params: { id: envId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    const stopped = await waitAction(stop.body.id);
    expect(stopped.status, stopped.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment!.state).toBe("stopped");
    expect(await guestPids(ssh, dir)).toEqual([]);
    expect((await ssh.run(["test", "-f", guestFiles(dir).disk])).code).toBe(0);

    const start = await invoke(startRoute.POST, "POST", `/api/v1/environments/${envId}/start`, { token: token.customer, params: { id: envId } });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const started = await waitAction(start.body.id);
    expect(started.status, started.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment!.state).toBe("running");
    const after = await guestPids(ssh, dir);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(processUser(after[0])).toBe(sshd.user);
    expect((await readyReports(dir)).at(-1)!.hostname).toBe(hostname);
  }, 2 * BOOT_MS);

  it("live migration stays between hosts of the portal's machine: a move off the SSH host is refused up front and by the driver, and the guest keeps running", async () => {
    const envId = (await getOrder(orderId)).environment!.id;
    const [target] = await db
      .insert(hosts)
      .values({ name: unique("qlocal"), kind: "qemu", address: "local", cpuCapacity: 4, memoryMbCapacity: 8192, diskGbCapacity: 200, features: ["vms", "live-migration"], config: { workDir: "/tmp/pqs-unused" } as never })
      .returning();
    try {
      const res = await invoke(migrateRoute.POST, "POST", `/api/v1/environments/${envId}/migrate`, { token: token.admin, params: { id: envId }, body: { host: target.name } });
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.error).toBe(`Live migration of QEMU guests runs between hosts of the portal's own machine (address local) in this version; ${hostName} is reached over SSH`);
      // The driver refuses too (a queued move from before the check), before touching either host.
      const spec = deploySpec(await loadOrderContext(db, orderId));
      const io = { log: async () => {}, progress: async () => {}, signal: new AbortController().signal };
      const to = { id: target.id, name: target.name, kind: target.kind, address: target.address, config: target.config };
      await expect(driverFor("qemu", db).migrate!(spec, to, io)).rejects.toThrow(
        `live migration runs between QEMU hosts of the portal's own machine (address local) in this version; ${hostName} is reached over SSH (127.0.0.1), so ${hostname} stays on ${hostName}`,
      );
    } finally {
      await db.update(hosts).set({ state: "offline" }).where(eq(hosts.id, target.id));
    }
    expect(await guestPids(ssh, dir)).toHaveLength(1);
    expect((await getOrder(orderId)).environment).toMatchObject({ host: hostName, state: "running" });
  });

  it("destroy stops QEMU over SSH and removes the guest's files from the remote work folder and its packed image", async () => {
    const res = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${orderId}/destroy`, { token: token.customer, params: { id: orderId } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await waitForOrder(db, orderId, ["retired", "failed"], 120_000);
    expect((await getOrder(orderId)).status).toBe("retired");
    expect(await guestPids(ssh, dir)).toEqual([]);
    expect((await ssh.run(["test", "-e", dir])).code).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect((await ls(path.join(store, "packed"))).filter((k) => k.startsWith(`${hostname}-`))).toEqual([]);
    expect((await ls(path.join(sshd.workDir, "staging"))).filter((k) => k.startsWith(`${hostname}-`))).toEqual([]);
    // The golden image stays for the next order.
    expect((await ssh.run(["test", "-f", goldenPaths(store, "linux-qemu").disk])).code).toBe(0);
  }, 180_000);

  it("an image store the SSH user cannot write fails the order at its first step saying what to fix, and nothing runs as root", async () => {
    // The shared test store belongs to root: the SSH user may read it but not pack into it.
    const patch = (config: Record<string, unknown>) =>
      invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: token.admin, params: { id: hostId }, body: { config } });
    expect((await patch({ imageStore: testImageStore })).status).toBe(200);
    try {
      const name = unique("qp");
      const id = await orderQemu(name);
      await waitForOrder(db, id, ["ready", "failed"], 120_000);
      const view = await getOrder(id);
      expect(view.status).toBe("failed");
      expect(view.reason).toBe(
        `Step "Resolve image" failed: the SSH user (ssh ${sshd.user}@127.0.0.1:${sshd.port}) cannot write ${testImageStore}/packed on ${hostName}; ` +
          "give it write access to the image store's packed folder (e.g. chown it to that user)",
      );
      expect(existsSync(path.join(sshd.workDir, "guests", name))).toBe(false);
      expect((await ls(path.join(testImageStore, "packed"))).filter((k) => k.startsWith(`${name}-`))).toEqual([]);
    } finally {
      expect((await patch({ imageStore: store })).status).toBe(200);
    }
  }, 180_000);

  it("a host whose host key changed is refused: the order fails at its first step with the host-key reason and nothing is made", async () => {
    const pinned = sshd.hostKeyFingerprint;
    await sshd.restart({ newHostKey: true });
    expect(sshd.hostKeyFingerprint).not.toBe(pinned);
    const name = unique("qk");
    const id = await orderQemu(name);
    await waitForOrder(db, id, ["ready", "failed"], 120_000);
    const view = await getOrder(id);
    expect(view.status).toBe("failed");
    const failed = view.steps.find((s) => s.status === "failed")!;
    expect(failed.name).toBe("resolve");
    expect(view.reason).toBe(
      `Step "Resolve image" failed: host ${hostName} (ssh ${sshd.user}@127.0.0.1:${sshd.port}) presented an unexpected host key; an admin must confirm it: ` +
        `ssh ${sshd.user}@127.0.0.1:${sshd.port}: host key changed: pinned ${pinned}, the host presented ${sshd.hostKeyFingerprint}. Connection refused. ` +
        "If the host was reinstalled, check the new key on the host (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub) and update the host's fingerprint.",
    );
    expect(existsSync(path.join(sshd.workDir, "guests", name))).toBe(false);
    expect((await ls(path.join(sshd.workDir, "staging"))).filter((k) => k.startsWith(`${name}-`))).toEqual([]);
    // The pinned key stays: only an admin confirms a new one.
    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(row.hostKeyFingerprint).toBe(pinned);
  }, 180_000);
});
