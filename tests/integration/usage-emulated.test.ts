/**
 * What Xen and Solaris zones hosts report of their use, read over real SSH from the host
 * emulators (tests/emulators: MOCKS of a Xen dom0 and a Solaris 10 global zone, which cannot
 * run here; their CPU time grows with the clock: a fifth of each guest's CPUs, a quarter of
 * the host's). The plans' commands are the golden ones (tests/golden/*-usage.plan); this
 * checks their outputs are read right: CPU time, memory, disk, and CPU % between readings.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import type { DeploySpec } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { guestPoint, hostPoint } from "@/lib/usage/rates";
import { spec } from "../fixtures/plan-orders";
import { startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xen: EmulatedHost, sol: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xen, sol].find((e) => e.host.id === h.id)!.transport();
const GiB = 1024 ** 3;

beforeAll(async () => {
  [xen, sol] = await Promise.all([startEmulatedHost({ name: "xen-use", kind: "xen", port: 3560 }), startEmulatedHost({ name: "sol-use", kind: "zones", port: 3561 })]);
  // A running 2-vCPU domain of 1 GiB on a 10 GiB volume, and a running zone capped at 2 CPUs and 1 GiB, as the emulators record them.
  mkdirSync(path.join(xen.state, "xen"), { recursive: true });
  writeFileSync(path.join(xen.state, "xen/domains.json"), JSON.stringify({ "xen-use1": { id: 4, memory: 1024, vcpus: 2, state: "-b----", disk: "/dev/vg0/xen-use1" } }));
  mkdirSync(path.join(xen.state, "lvm"), { recursive: true });
  writeFileSync(path.join(xen.state, "lvm/state.json"), JSON.stringify({ vgs: { vg0: { size: 500 * GiB } }, lvs: { "vg0/xen-use1": { size: 10 * GiB } } }));
  const zonepath = path.join(sol.state, "zones/sol-use1");
  mkdirSync(path.join(zonepath, "root/etc"), { recursive: true });
  writeFileSync(path.join(zonepath, "root/etc/motd"), "x".repeat(200_000));
  mkdirSync(path.join(sol.state, "zones"), { recursive: true });
  writeFileSync(
    path.join(sol.state, "zones/zones.json"),
    JSON.stringify({ "sol-use1": { id: 7, state: "running", cfg: { props: { zonepath }, cappedCpu: { ncpus: "2" }, cappedMemory: { physical: "1g" } } } }),
  );
  mkdirSync(path.join(sol.state, "zfs"), { recursive: true });
  writeFileSync(
    path.join(sol.state, "zfs/state.json"),
    JSON.stringify({ datasets: { rpool: { mountpoint: "/rpool", origin: null }, "rpool/zones": { mountpoint: path.join(sol.state, "zones"), origin: null }, "rpool/zones/sol-use1": { mountpoint: zonepath, origin: null } }, snapshots: {} }),
  );
}, 60_000);

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xen, sol]);
});

/** Two readings `ms` apart, with the clock before the first and after the last. */
async function twice<T>(read: () => Promise<T>, ms = 1500) {
  const before = Date.now();
  const first = await read();
  const firstAt = new Date();
  await sleep(ms);
  const second = await read();
  return { before, first, firstAt, second, secondAt: new Date(), after: Date.now() };
}

describe("usage over SSH from emulated hosts", () => {
  it("Xen: the domain's CPU time, memory and volume size; CPU % of its vCPUs between two readings", async () => {
    const s = { ...spec({ name: "xen-use1", image: "linux-test", flavor: "small", host: { name: "xen-use", kind: "xen" }, last: 41 }), host: xen.host };
    const driver = new XenDriver(connect);
    const r = await twice(() => driver.usage(s));
    expect(r.first.vcpus).toBe(2);
    expect(r.first.memoryBytes).toBe(GiB);
    expect(r.first.diskBytes).toBe(10 * GiB);
    // The emulator's `xl list` Time(s): a fifth of 2 vCPUs since the epoch.
    expect(r.first.cpuSeconds).toBeGreaterThanOrEqual((r.before / 1000) * 0.4 - 0.1);
    expect(r.first.cpuSeconds).toBeLessThanOrEqual((r.after / 1000) * 0.4 + 0.1);
    const point = guestPoint(r.second, { at: r.firstAt, cpuSeconds: r.first.cpuSeconds, rxBytesTotal: r.first.rxBytes, txBytesTotal: r.first.txBytes }, r.secondAt);
    expect(point.cpuPercent).toBeGreaterThan(10);
    expect(point.cpuPercent).toBeLessThan(30);
    // dom0 has no vif of it here: no network figures, not zeros.
    expect(point.rxBytesPerSec).toBeNull();
  });

  it("Xen: the host's CPUs, memory in use and volume group", async () => {
    const driver = new XenDriver(connect);
    const r = await twice(() => driver.hostUsage(xen.host));
    expect(r.first.cpus).toBe(8);
    expect(r.first.memoryTotalBytes).toBe(16384 * 1024 ** 2);
    // Domain-0's 1 GiB and the domain's 1 GiB are not free.
    expect(r.first.memoryUsedBytes).toBe(2048 * 1024 ** 2);
    expect(r.first.diskTotalBytes).toBe(500 * GiB);
    expect(r.first.diskUsedBytes).toBe(10 * GiB);
    const point = hostPoint(r.second, { at: r.firstAt, cpuSeconds: r.first.cpuSeconds, rxBytesTotal: null, txBytesTotal: null }, r.secondAt);
    // Domain-0 a fifth of 8 CPUs and the domain a fifth of 2: 2 of 8 CPUs busy.
    expect(point.cpuPercent).toBeGreaterThan(20);
    expect(point.cpuPercent).toBeLessThan(30);
  });

  it("zones: the zone's CPU time and resident memory from prstat -Z, its dataset's space", async () => {
    const s = { ...spec({ name: "sol-use1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-use", kind: "zones" }, last: 42 }), host: sol.host };
    const before = Date.now();
    const u = await new ZonesDriver(connect).usage(s);
    const after = Date.now();
    // prstat's TIME has whole seconds: a fifth of the zone's 2 CPUs since the epoch.
    expect(u.cpuSeconds).toBeGreaterThanOrEqual(Math.floor((before / 1000) * 0.4) - 1);
    expect(u.cpuSeconds).toBeLessThanOrEqual(Math.floor((after / 1000) * 0.4) + 1);
    // RSS: half the 1 GiB cap, printed as 512M.
    expect(u.memoryBytes).toBe(512 * 1024 ** 2);
    expect(u.diskBytes).toBeGreaterThan(200_000);
    expect(u.rxBytes).toBeNull();
  });

  it("zones: the host's CPUs, busy CPU time, memory pages and the zones dataset", async () => {
    const r = await twice(() => new ZonesDriver(connect).hostUsage(sol.host));
    expect(r.first.cpus).toBe(8);
    expect(r.first.memoryTotalBytes).toBe(16384 * 1024 ** 2);
    expect(r.first.memoryUsedBytes).toBeCloseTo(16384 * 1024 ** 2 * 0.45, -6);
    expect(r.first.diskTotalBytes).toBe(r.first.diskUsedBytes! + 100 * GiB);
    const point = hostPoint(r.second, { at: r.firstAt, cpuSeconds: r.first.cpuSeconds, rxBytesTotal: null, txBytesTotal: null }, r.secondAt);
    // A quarter of every CPU busy.
    expect(point.cpuPercent).toBeGreaterThan(18);
    expect(point.cpuPercent).toBeLessThan(32);
  });
});
