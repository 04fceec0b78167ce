/**
 * The Xen driver on real Xen: a Xen 4.17 host (Debian's hypervisor, kernel and xl tools, built
 * by `npm run xen:build`) booted under QEMU's software emulation, registered on the portal
 * over SSH like any host, given a golden volume, and sent a customer's order. Every step runs
 * the command plan of the golden files (tests/golden/xen-*.plan) against the real xl, LVM and
 * mount, line by line: the guest (a PV guest: software emulation offers no PVH) boots from
 * its snapshot, prints its own ready line on its console and answers on SSH; then stop,
 * start and destroy, after which its volume and configuration are gone.
 *
 * Runs only where the Xen image is built or can be (as root, with the Debian mirror);
 * otherwise it is skipped with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import * as testRoute from "@/app/api/v1/hosts/[id]/test/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import { hosts } from "@/lib/db/schema";
import { commandText } from "@/lib/drivers/plan/render";
import { SshTransport, closeSshConnections } from "@/lib/drivers/transport/ssh";
import type { Transport } from "@/lib/drivers/transport/types";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { orderView } from "@/lib/orders/queries";
import { deploySpec, loadOrderContext } from "@/lib/pipeline/context";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { KEY } from "../fixtures/plan-orders";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitForAction, waitForOrder } from "../helpers/portal";
import { bootXenHost, xenImageForTests, type XenHost } from "../helpers/xen-host";

const SSH_PORT = 3500;
/** Software emulation on 2 shared cores: a guest boot takes 15-60 s, dom0's 30-120 s. */
const STEP_MS = 8 * 60_000;

const { image, reason } = await xenImageForTests();
if (!image) console.log(`[xen-real] skipped: ${reason}`);

const { db, admin } = await bootPortal();
let xen: XenHost;
let dom0: Transport;
let worker: RunningWorkers;
let adminToken: string;
let token: string;
let hostId: string;
let orderId: string;
let name: string;

/** Runs argv in dom0 over SSH. */
async function inDom0(argv: string[]) {
  return dom0.run(argv, { timeoutMs: 120_000 });
}

/** The order as its page and GET /api/v1/orders/:id show it, once it has an environment. */
async function getOrder(id: string) {
  const view = await orderView(db, id);
  if (!view.environment) throw new Error(`order ${id} has no environment (${view.status}: ${view.reason ?? ""})`);
  return { ...view, environment: view.environment };
}

/** The guest's console as xenconsoled logged it in dom0. */
async function guestConsole(): Promise<string> {
  return (await inDom0(["cat", `/var/log/xen/console/guest-${name}.log`])).stdout.replace(/\r/g, "");
}

describe.skipIf(!image)("a real Xen 4.17 host under QEMU", () => {
  beforeAll(async () => {
    // Only the real Xen host takes orders in this file.
    await db.update(hosts).set({ state: "draining" }).where(eq(hosts.kind, "sim"));
    xen = await bootXenHost(image!, { sshPort: SSH_PORT, bridges: [["xenbr0", "10.20.0.1/24"], ["xenbr1", "10.30.0.1/24"]] });
    console.log(`[xen-real] dom0 ready ${xen.bootSeconds.toFixed(1)} s after QEMU started`);
    adminToken = await tokenFor(db, admin);
    const group = await makeGroup(db, { autoApprove: true });
    const customer = await makeUser(db, "customer", group.slug);
    token = await tokenFor(db, customer);
    const put = await invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token, body: { sshPublicKey: KEY } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    worker = await startWorkers();
  }, 10 * 60_000);

  afterAll(async () => {
    await worker?.stop();
    await closeSshConnections();
    await xen?.stop();
  });

  it("registers on the portal with its SSH key; Test connection reads the real xl info and volume group; it is activated", async () => {
    const res = await invoke(hostsRoute.POST, "POST", "/api/v1/hosts", {
      token: adminToken,
      body: { name: unique("xen-real"), kind: "xen", address: "127.0.0.1", port: SSH_PORT, sshUser: xen.sshUser, privateKey: xen.privateKey, config: { guestType: "pv" } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    hostId = res.body.id;
    const tested = await invoke(testRoute.POST, "POST", `/api/v1/hosts/${hostId}/test`, { token: adminToken, params: { id: hostId } });
    expect(tested.body.ok, tested.body.error).toBe(true);
    expect(tested.body.hostKey.pinnedNow).toBe(true);
    expect(tested.body.check.facts).toMatchObject({ vcpus: 2, version: expect.stringMatching(/^Xen 4\.17/) });
    expect(tested.body.check.facts.memoryMb).toBeGreaterThan(2000);
    expect(tested.body.check.facts.details).toContainEqual(expect.stringMatching(/^volume group vg0: 39 GiB/));
    const active = await invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${hostId}`, { token: adminToken, params: { id: hostId }, body: { state: "active" } });
    expect(active.body.state, JSON.stringify(active.body)).toBe("active");

    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    dom0 = new SshTransport({ id: `${hostId}-test`, address: "127.0.0.1", port: SSH_PORT, user: xen.sshUser, privateKey: xen.privateKey, hostKeyFingerprint: row.hostKeyFingerprint });
  });

  it("takes a golden volume for the Linux image: the test guest's filesystem copied onto an LV of vg0", async () => {
    for (const argv of [
      ["lvcreate", "-y", "-L", "64M", "-n", "golden-linux-test", "vg0"],
      ["dd", "if=/var/lib/xen/images/golden-linux-xen.ext4", "of=/dev/vg0/golden-linux-test", "bs=4M"],
    ]) {
      const r = await inDom0(argv);
      expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
    }
    expect((await inDom0(["blkid", "-o", "value", "-s", "LABEL", "/dev/vg0/golden-linux-test"])).stdout.trim()).toBe("root");
  });

  it("a customer's order is delivered: each step runs the plan's commands on real Xen, the guest prints its ready line and answers on SSH", async () => {
    name = unique("xr");
    const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-test", flavor: "small", name } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    orderId = res.body.id;
    await waitForOrder(db, orderId, ["ready", "failed"], STEP_MS);
    const view = await getOrder(orderId);
    expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
    expect(view.environment.state).toBe("running");

    // The run followed the plan (the golden files' shape) command by command.
    const spec = deploySpec(await loadOrderContext(db, orderId));
    for (const step of XenDriver.plan(spec).steps.filter((s) => !["halt", "destroy"].includes(s.step))) {
      const logged = view.steps.find((s) => s.name === step.step)?.log.map((l) => l.line) ?? [];
      const ran = logged.filter((l) => l.startsWith("$ ") || l.startsWith("write "));
      const planned = step.actions.map((a) => (a.kind === "run" ? `$ ${commandText(a.argv)}` : `write ${a.path} (mode`));
      expect(ran.map((l, i) => (planned[i]?.endsWith("(mode") ? l.slice(0, planned[i]!.length) : l)), step.step).toEqual(planned);
    }

    // What an admin would check in dom0: the snapshot, the PV domain config, the running domain.
    expect((await inDom0(["lvs", "--noheadings", "--separator", "|", "-o", "lv_name,origin", `vg0/${name}`])).stdout.trim()).toBe(`${name}|golden-linux-test`);
    const cfg = (await inDom0(["cat", `/etc/xen/${name}.cfg`])).stdout;
    expect(cfg).toContain('type    = "pv"');
    for (const a of view.environment.addresses) expect(cfg).toContain(`mac=${a.mac},bridge=${a.purpose === "service" ? "xenbr0" : "xenbr1"}`);
    expect((await inDom0(["xl", "list", name])).stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+1024\\s+1\\s+[-rb]`, "m"));

    // The guest's own word: its ready line with the portal's hostname and addresses, and SSH.
    const ready = (await guestConsole()).split("\n").find((l) => l.startsWith("PORTAL-READY "));
    expect(ready, await guestConsole()).toBeDefined();
    expect(ready).toContain(`hostname=${name}`);
    for (const a of view.environment.addresses) expect(ready).toContain(`,${a.ip}/24`);
    const service = view.environment.addresses.find((a) => a.purpose === "service")!;
    expect((await inDom0(["nc", "-z", "-w", "5", service.ip, "22"])).code).toBe(0);
    expect((await inDom0(["sh", "-c", `echo | nc -w 5 ${service.ip} 22`])).stdout).toMatch(/^SSH-2\.0-dropbear/);
  }, STEP_MS + 60_000);

  it("stop shuts the guest down (its volume stays), start boots it again and it reports in", async () => {
    const envId = (await getOrder(orderId)).environment.id;
    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token, params: { id: envId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    const stopped = await waitForAction(db, stop.body.id, STEP_MS);
    expect(stopped.status, stopped.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment.state).toBe("stopped");
    expect((await inDom0(["xl", "list", name])).code).not.toBe(0);
    expect((await inDom0(["lvs", `vg0/${name}`])).code).toBe(0);
    // The guest powered itself off: its poweroff unmounted the disk, then the kernel halted.
    expect(await guestConsole()).toMatch(/portal-guest: powering off[\s\S]*EXT4-fs \(xvda\): unmounting filesystem[\s\S]*reboot: System halted/);

    const start = await invoke(startRoute.POST, "POST", `/api/v1/environments/${envId}/start`, { token, params: { id: envId } });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const started = await waitForAction(db, start.body.id, STEP_MS);
    expect(started.status, started.error ?? "").toBe("succeeded");
    expect((await getOrder(orderId)).environment.state).toBe("running");
    expect((await inDom0(["xl", "list", name])).code).toBe(0);
    const service = (await getOrder(orderId)).environment.addresses.find((a) => a.purpose === "service")!;
    expect((await inDom0(["nc", "-z", "-w", "5", service.ip, "22"])).code).toBe(0);
  }, 2 * STEP_MS);

  it("destroy removes the domain, its volume and its configuration; the golden volume stays", async () => {
    const res = await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${orderId}/destroy`, { token, params: { id: orderId } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await waitForOrder(db, orderId, ["retired", "failed"], STEP_MS);
    expect((await getOrder(orderId)).status).toBe("retired");
    expect((await inDom0(["xl", "list", name])).code).not.toBe(0);
    expect((await inDom0(["lvs", `vg0/${name}`])).code).not.toBe(0);
    expect((await inDom0(["test", "-e", `/etc/xen/${name}.cfg`])).code).not.toBe(0);
    expect((await inDom0(["lvs", "vg0/golden-linux-test"])).code).toBe(0);
  }, STEP_MS);
});
