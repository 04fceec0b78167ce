/**
 * Live migration of a real QEMU guest between two QEMU hosts of this machine, through the
 * portal: order -> ready on one host, POST .../migrate -> the guest keeps running (its
 * uptime grows across the move) on the other host with the same addresses. A migration
 * whose destination dies leaves the guest running where it was.
 */
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as migrateRoute } from "@/app/api/v1/environments/[id]/migrate/route";
import { GET as hostsRoute } from "@/app/api/v1/hosts/route";
import { environmentActions, environments, hosts } from "@/lib/db/schema";
import { guestFiles } from "@/lib/drivers/qemu/args";
import { guestPids, launchGuest } from "@/lib/drivers/qemu/process";
import { cgroupName, cgroupOfPid } from "@/lib/drivers/qemu/cgroup";
import { hostKey } from "@/lib/drivers/qemu/netns";
import { QemuDriver } from "@/lib/drivers/qemu/driver";
import { linkGuestFolder } from "@/lib/drivers/qemu/migrate";
import { withQmp } from "@/lib/drivers/qemu/qmp";
import { deploySpec, loadOrderContext } from "@/lib/pipeline/context";
import { LocalTransport } from "@/lib/drivers/transport/local";
import { requestMigration } from "@/lib/lifecycle/migrate";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";
import { askStatus, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";

const { db, admin } = await bootPortal();
const t = new LocalTransport();
let worker: RunningWorkers;
let customer: Actor;
let qemu: QemuHosts;
let hostRows: QemuHosts["hosts"] = [];
let orderId: string;
let environmentId: string;
const guestName = unique("mig");

function guestDirOn(host: { name: string }, hostname: string) {
  return qemu.guestDir(host.name, hostname);
}

async function actionRow(id: string) {
  const [row] = await db.select().from(environmentActions).where(eq(environmentActions.id, id));
  return row!;
}

beforeAll(async () => {
  qemu = await setupQemuHosts(db, 2, { migrationPorts: [45000, 45099] });
  hostRows = qemu.hosts;
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  worker = await startWorkers();
  const created = await order(db, admin, { image: "linux-qemu", flavor: "small", name: guestName });
  orderId = created.id;
  const view = await waitForOrder(db, orderId, undefined, 240_000);
  expect(view.status, JSON.stringify(view.steps.filter((s) => s.status === "failed"))).toBe("ready");
  environmentId = view.environment!.id;
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
}, 60_000);

const hostOf = async () => (await db.select().from(environments).where(eq(environments.id, environmentId)))[0]!;

describe("who may move an environment, and where", () => {
  it("lists hosts with id, name, kind, state and capacity for the admin's choice", async () => {
    const res = await invoke(hostsRoute, "GET", "/api/v1/hosts", { token: await tokenFor(db, admin) });
    expect(res.status).toBe(200);
    const names = hostRows.map((h) => h.name);
    const mine = res.body.hosts.filter((h: { name: string }) => names.includes(h.name));
    expect(mine).toHaveLength(2);
    for (const h of mine) expect(h).toMatchObject({ id: expect.any(String), kind: "qemu", state: "active", capacity: { vcpus: 4, memoryMb: 8192, diskGb: 200 } });
  });

  it("refuses customers, the current host, another kind, inactive hosts and unknown names with a reason", async () => {
    const current = await hostOf();
    const here = hostRows.find((h) => h.id === current.hostId)!;
    const other = hostRows.find((h) => h.id !== current.hostId)!;
    const call = async (actor: Actor, host: unknown) =>
      invoke(migrateRoute, "POST", `/api/v1/environments/${environmentId}/migrate`, { token: await tokenFor(db, actor), params: { id: environmentId }, body: { host } });

    expect((await call(customer, other.name)).status).toBe(403);
    const same = await call(admin, here.name);
    expect(same.status).toBe(409);
    expect(same.body.error).toBe(`The environment already runs on ${here.name}`);
    const sim = await call(admin, "sim-1");
    expect(sim.status).toBe(409);
    expect(sim.body.error).toBe(`sim-1 is a sim host; an environment on qemu host ${here.name} can move only to another qemu host`);
    expect((await call(admin, "no-such-host")).status).toBe(422);
    const empty = await call(admin, "");
    expect(empty.status).toBe(422);
    expect(empty.body.fields.host).toEqual(["Choose a target host"]);

    await db.update(hosts).set({ state: "draining" }).where(eq(hosts.id, other.id));
    const draining = await call(admin, other.id);
    expect(draining.status).toBe(409);
    expect(draining.body.error).toBe(`${other.name} is draining: it takes no environments now`);
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.id, other.id));

    await db.update(hosts).set({ memoryMbCapacity: 512 }).where(eq(hosts.id, other.id));
    const full = await call(admin, other.name);
    expect(full.status).toBe(409);
    expect(full.body.error).toMatch(new RegExp(`^${other.name} has no room for 1 vCPUs, 1024 MiB and 10 GiB \\(free: \\d+ vCPUs, 512 MiB, \\d+ GiB\\)$`));
    await db.update(hosts).set({ memoryMbCapacity: other.memoryMbCapacity }).where(eq(hosts.id, other.id));
    // Nothing was queued by any of these.
    expect(await db.select().from(environmentActions).where(eq(environmentActions.environmentId, environmentId))).toEqual([]);
  });
});

describe("live migration between two QEMU hosts", () => {
  it("moves the running guest: its uptime keeps growing, addresses stay, the host and the measured downtime are recorded", async () => {
    const before = await hostOf();
    const from = hostRows.find((h) => h.id === before.hostId)!;
    const to = hostRows.find((h) => h.id !== before.hostId)!;
    const addresses = await allocationsOf(db, orderId);
    const first = await askStatus(guestDirOn(from, before.hostname));
    expect(first.hostname).toBe(before.hostname);
    expect(first.nics.map((n) => `${n.mac} ${n.ip}`).sort()).toEqual(addresses.map((a) => `${a.mac} ${a.ip}`).sort());

    const res = await invoke(migrateRoute, "POST", `/api/v1/environments/${environmentId}/migrate`, {
      token: await tokenFor(db, admin), params: { id: environmentId }, body: { host: to.name },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ action: "migrate", status: "queued", environmentId, targetHost: { id: to.id, name: to.name } });

    const states = new Set<string>();
    const done = await waitFor(
      async () => {
        states.add((await hostOf()).state);
        return actionRow(res.body.id);
      },
      (a) => a.status === "succeeded" || a.status === "failed",
      { timeoutMs: 120_000, intervalMs: 20, what: "the migration to finish" },
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe("succeeded");
    expect(states.has("migrating")).toBe(true);
    expect(done.result).toMatchObject({ mode: "live", from: from.name, to: to.name, totalMs: expect.any(Number), downtimeMs: expect.any(Number) });
    expect((done.result as { totalMs: number }).totalMs).toBeGreaterThan(0);
    expect((done.result as { downtimeMs: number }).downtimeMs).toBeGreaterThanOrEqual(0);

    const after = await hostOf();
    expect(after).toMatchObject({ hostId: to.id, state: "running" });
    expect(after.placement).toMatch(new RegExp(`^${to.name}: moved live from ${from.name} by an admin \\(\\d+ ms, downtime \\d+ ms\\)$`));
    expect(await allocationsOf(db, orderId)).toEqual(addresses);
    // The same guest (not a reboot): uptime went on growing from where it was.
    const second = await askStatus(guestDirOn(to, before.hostname));
    expect(second.hostname).toBe(first.hostname);
    expect(second.nics).toEqual(first.nics);
    expect(second.uptimeSeconds).toBeGreaterThan(first.uptimeSeconds);
    // Nothing of it is left on the source.
    expect(await guestPids(t, guestDirOn(from, before.hostname))).toEqual([]);
    expect((await t.run(["test", "-e", guestDirOn(from, before.hostname)])).code).not.toBe(0);
    const [newPid] = await guestPids(t, guestDirOn(to, before.hostname));
    expect(newPid).toBeDefined();
    // Its CPU cap moved with it: the new QEMU process sits in the target host's cgroup for the guest.
    expect(await cgroupOfPid(t, newPid!)).toContain(cgroupName(hostKey(to), before.hostname));
  }, 180_000);

  it("a migration whose destination dies fails with the reason and leaves the guest running on its host", async () => {
    const before = await hostOf();
    const from = hostRows.find((h) => h.id === before.hostId)!;
    const to = hostRows.find((h) => h.id !== before.hostId)!;
    const first = await askStatus(guestDirOn(from, before.hostname));
    // A slow link (512 KiB/s) so that the destination can be killed mid-way.
    await db.update(hosts).set({ config: { ...(to.config as object), migrationMaxBandwidth: 512 * 1024 } as never }).where(eq(hosts.id, to.id));

    const action = await requestMigration(db, admin, environmentId, to.name);
    const dstDir = guestDirOn(to, before.hostname);
    const [dstPid] = await waitFor(
      async () => ((await actionRow(action.id)).progress > 5 ? guestPids(t, dstDir) : []),
      (pids) => pids.length > 0,
      { timeoutMs: 60_000, intervalMs: 50, what: "the destination QEMU to receive the guest" },
    );
    await t.run(["kill", "-KILL", String(dstPid)]);

    const failed = await waitFor(() => actionRow(action.id), (a) => a.status === "failed" || a.status === "succeeded", { timeoutMs: 60_000, what: "the migration to fail" });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(new RegExp(`^live migration to ${to.name} failed: .*; ${before.hostname} keeps running on ${from.name}$`));
    // The action fails first, then the environment's state is read back from the host.
    const after = await waitFor(hostOf, (e) => e.state !== "migrating", { what: "the environment's state after the failed move" });
    expect({ host: after.hostId === from.id ? from.name : after.hostId, state: after.state }).toEqual({ host: from.name, state: "running" });
    const second = await askStatus(guestDirOn(from, before.hostname));
    expect(second.uptimeSeconds).toBeGreaterThan(first.uptimeSeconds);
    expect(await guestPids(t, guestDirOn(from, before.hostname))).toHaveLength(1);
    expect((await t.run(["test", "-e", dstDir])).code).not.toBe(0);
  }, 180_000);

  it("a move QEMU completed while no worker watched (the worker died after `migrate`) is finished by the next attempt, not undone", async () => {
    const before = await hostOf();
    const from = hostRows.find((h) => h.id === before.hostId)!;
    const to = hostRows.find((h) => h.id !== before.hostId)!;
    await db.update(hosts).set({ config: { ...(to.config as object), migrationMaxBandwidth: undefined } as never }).where(eq(hosts.id, to.id));
    const first = await askStatus(guestDirOn(from, before.hostname));
    // What a worker did before it died: the destination waits, the source was told to migrate.
    const driver = new QemuDriver();
    const spec = deploySpec(await loadOrderContext(db, orderId));
    const [target] = await db.select().from(hosts).where(eq(hosts.id, to.id));
    const targetHost = { id: target!.id, name: target!.name, kind: target!.kind, address: target!.address, config: target!.config };
    const io = { log: async () => {}, progress: async () => {}, signal: new AbortController().signal };
    const srcDir = guestDirOn(from, before.hostname);
    const dstDir = guestDirOn(to, before.hostname);
    await linkGuestFolder(t, srcDir, dstDir);
    const network = await driver.prepareNetwork(t, spec, targetHost, io);
    await t.writeFile(path.join(dstDir, "network.json"), JSON.stringify(network));
    const { plan } = await driver.plan(t, spec, targetHost);
    const incoming = `unix:${path.join(dstDir, "migrate.sock")}`;
    await launchGuest(t, { ...plan, incoming }, { netns: network.mode === "bridge" ? network.netns : null });
    await withQmp(t, guestFiles(srcDir).qmp, async (q) => {
      await q.execute("migrate-set-parameters", { "max-bandwidth": 134_217_728 });
      await q.execute("migrate", { uri: incoming });
    });
    await waitFor(() => withQmp(t, guestFiles(srcDir).qmp, (q) => q.execute<{ status: string }>("query-migrate")), (m) => m.status === "completed", {
      timeoutMs: 60_000, intervalMs: 200, what: "QEMU to complete the migration",
    });

    // The redelivered request: the portal finishes the move instead of resuming the paused source.
    const action = await requestMigration(db, admin, environmentId, to.name);
    const done = await waitFor(() => actionRow(action.id), (a) => a.status === "succeeded" || a.status === "failed", { timeoutMs: 60_000, what: "the action" });
    expect(done.error).toBeNull();
    expect(done.result).toMatchObject({ mode: "live", from: from.name, to: to.name, totalMs: expect.any(Number) });
    expect(await hostOf()).toMatchObject({ hostId: to.id, state: "running" });
    expect(await guestPids(t, srcDir)).toEqual([]);
    expect(await guestPids(t, dstDir)).toHaveLength(1);
    const second = await askStatus(dstDir);
    expect(second.uptimeSeconds).toBeGreaterThan(first.uptimeSeconds);
  }, 180_000);
});
