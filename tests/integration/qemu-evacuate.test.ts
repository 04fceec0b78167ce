/**
 * Evacuating a real QEMU host through the portal: two running guests on host 1, POST
 * .../evacuate moves both live to host 2 at once (their uptime keeps growing across the move:
 * no reboot; same addresses and MACs; answering in host 2's network namespace), each move's
 * downtime is recorded, and host 1 ends offline holding nothing. Then back again with one
 * guest stopped: it moves cold, stays stopped, and boots on its new host when started.
 */
import { and, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as evacuateRoute from "@/app/api/v1/hosts/[id]/evacuate/route";
import * as hostEvacuationRoute from "@/app/api/v1/hosts/[id]/evacuation/route";
import { environments, hosts } from "@/lib/db/schema";
import { pingFromHost } from "@/lib/drivers/qemu/netns";
import { requestAction } from "@/lib/lifecycle/actions";
import type { EvacuationView } from "@/lib/fleet/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { allocationsOf, bootPortal, tokenFor, unique, waitFor, waitForAction, waitForOrder, order } from "../helpers/portal";
import { askStatus, local, netnsName, qemuProcessesFor, setupQemuHosts, type QemuHost, type QemuHosts } from "../helpers/qemu-hosts";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let qemu: QemuHosts;
let h1: QemuHost, h2: QemuHost;
let adminToken: string;
const guests: { orderId: string; environmentId: string; hostname: string }[] = [];
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  // Migration ports are used only with user-mode networking (without root); this file's own range.
  qemu = await setupQemuHosts(db, 2, { migrationPorts: [3655, 3659] });
  [h1, h2] = qemu.hosts as [QemuHost, QemuHost];
  adminToken = await tokenFor(db, admin);
  // Both guests start on host 1: host 2 takes none until the evacuation.
  await db.update(hosts).set({ state: "draining" }).where(eq(hosts.id, h2.id));
  worker = await startWorkers();
  const created = await Promise.all([0, 1].map(() => order(db, admin, { image: "linux-qemu", flavor: "small", name: unique("evq") })));
  for (const c of created) {
    const view = await waitForOrder(db, c.id, undefined, 300_000);
    expect(view.status, JSON.stringify(view.steps.filter((s) => s.status === "failed"))).toBe("ready");
    expect(view.environment!.host).toBe(h1.name);
    guests.push({ orderId: c.id, environmentId: view.environment!.id, hostname: view.environment!.hostname });
  }
}, 420_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
}, 60_000);

async function evacuate(h: QemuHost): Promise<EvacuationView> {
  const res = await invoke(evacuateRoute.POST, "POST", `/api/v1/hosts/${h.id}/evacuate`, { token: adminToken, params: { id: h.id }, body: { parallel: 2 } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitFor(
    async () => (await invoke(hostEvacuationRoute.GET, "GET", `/api/v1/hosts/${h.id}/evacuation`, { token: adminToken, params: { id: h.id } })).body as EvacuationView,
    (e) => e.status !== "running",
    { timeoutMs: 240_000, intervalMs: 200, what: `the evacuation of ${h.name}` },
  );
}

const hostState = async (h: QemuHost) => (await db.select({ state: hosts.state }).from(hosts).where(eq(hosts.id, h.id)))[0]!.state;
const envRow = async (id: string) => (await db.select().from(environments).where(eq(environments.id, id)))[0]!;
const onHost = (h: QemuHost) => db.select({ id: environments.id }).from(environments).where(and(eq(environments.hostId, h.id), ne(environments.state, "deleted")));

describe("evacuating a QEMU host", () => {
  it("moves both running guests live to the other host without a reboot, records each downtime, and leaves the host offline and empty", async () => {
    const before = await Promise.all(guests.map((g) => askStatus(qemu.guestDir(h1.name, g.hostname))));
    const addresses = await Promise.all(guests.map((g) => allocationsOf(db, g.orderId)));
    guests.forEach((g, i) => {
      expect(before[i]!.hostname).toBe(g.hostname);
      expect(before[i]!.nics.map((n) => `${n.mac} ${n.ip}`).sort()).toEqual(addresses[i]!.map((a) => `${a.mac} ${a.ip}`).sort());
    });
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.id, h2.id));

    const done = await evacuate(h1);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    expect(done.outcome).toBe(`${h1.name} is offline and holds no environment (2 environments moved)`);
    for (const m of done.moves) {
      expect(m).toMatchObject({ status: "moved", mode: "live", from: { name: h1.name }, to: { name: h2.name } });
      expect(m.downtimeMs).toEqual(expect.any(Number));
      expect(m.downtimeMs!).toBeGreaterThanOrEqual(0);
      expect(m.totalMs!).toBeGreaterThan(0);
    }
    // Both moved at once (parallel 2): each started before the other ended.
    const [a, b] = done.moves;
    expect(Date.parse(a!.startedAt!)).toBeLessThan(Date.parse(b!.finishedAt!));
    expect(Date.parse(b!.startedAt!)).toBeLessThan(Date.parse(a!.finishedAt!));
    console.log(`[qemu evacuation] ${done.moves.map((m) => `${m.environment.hostname}: total ${m.totalMs} ms, downtime ${m.downtimeMs} ms, move ${m.durationMs} ms`).join("; ")}`);

    expect(await hostState(h1)).toBe("offline");
    expect(await onHost(h1)).toEqual([]);
    for (const [i, g] of guests.entries()) {
      expect(await envRow(g.environmentId)).toMatchObject({ hostId: h2.id, state: "running" });
      // The same guest: its uptime went on from where it was (no reboot), same name, NICs and addresses.
      const after = await askStatus(qemu.guestDir(h2.name, g.hostname));
      expect(after.hostname).toBe(g.hostname);
      expect(after.nics).toEqual(before[i]!.nics);
      expect(after.uptimeSeconds).toBeGreaterThan(before[i]!.uptimeSeconds);
      expect(await allocationsOf(db, g.orderId)).toEqual(addresses[i]);
      expect(await qemuProcessesFor(qemu.guestDir(h1.name, g.hostname))).toEqual([]);
      expect(await qemuProcessesFor(qemu.guestDir(h2.name, g.hostname))).toHaveLength(1);
      if (isRoot) {
        const service = addresses[i]!.find((x) => x.network === "service")!;
        expect(await pingFromHost(local, netnsName(h2), service.ip, 3)).toBe(true);
      }
    }
    if (!isRoot) throw new Error("reaching the guests in host 2's network namespace needs root (CI runs as root)");
  }, 300_000);

  it("moves a stopped guest cold beside a running one: it stays stopped, then boots on its new host", async () => {
    const [running, idle] = guests as [(typeof guests)[number], (typeof guests)[number]];
    const stop = await requestAction(db, admin, idle.environmentId, "stop");
    expect((await waitForAction(db, stop.id, 120_000)).status).toBe("succeeded");
    const uptime = (await askStatus(qemu.guestDir(h2.name, running.hostname))).uptimeSeconds;
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.id, h1.id));

    const done = await evacuate(h2);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    const byEnv = Object.fromEntries(done.moves.map((m) => [m.environment.id, m]));
    expect(byEnv[running.environmentId]).toMatchObject({ status: "moved", mode: "live", to: { name: h1.name } });
    expect(byEnv[idle.environmentId]).toMatchObject({ status: "moved", mode: "cold", to: { name: h1.name }, downtimeMs: null });
    expect(await hostState(h2)).toBe("offline");
    expect(await envRow(idle.environmentId)).toMatchObject({ hostId: h1.id, state: "stopped" });
    expect(await qemuProcessesFor(qemu.guestDir(h1.name, idle.hostname))).toEqual([]);
    expect((await local.run(["test", "-e", qemu.guestDir(h2.name, idle.hostname)])).code).not.toBe(0);
    expect((await askStatus(qemu.guestDir(h1.name, running.hostname))).uptimeSeconds).toBeGreaterThan(uptime);

    const start = await requestAction(db, admin, idle.environmentId, "start");
    expect((await waitForAction(db, start.id, 180_000)).status).toBe("succeeded");
    const report = await askStatus(qemu.guestDir(h1.name, idle.hostname));
    expect(report.hostname).toBe(idle.hostname);
    expect(report.nics.map((n) => `${n.mac} ${n.ip}`).sort()).toEqual((await allocationsOf(db, idle.orderId)).map((a) => `${a.mac} ${a.ip}`).sort());
  }, 420_000);
});
