/**
 * Service IPs and separated networks on Xen and Solaris zones hosts, through the drivers over
 * real SSH against the host emulators (tests/emulators: xl, LVM, zonecfg, zoneadm, ifconfig,
 * ipf, nft, sysctl). Real Xen and Solaris cannot run here: these tests check that the planned
 * commands and files reach the host and leave it in the state an admin would check; nothing
 * is routed or filtered for real.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import type { DeploySpec, HypervisorDriver, StepIo } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { goldenNetworkPolicy, spec } from "../fixtures/plan-orders";
import { prepareXenHost, prepareZonesHost, provisionGuest, recordingIo, runOn, sharedDir, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xenA: EmulatedHost, solA: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xenA, solA].find((e) => e.host.id === h.id)!.transport();
const xen = new XenDriver(connect, { pollIntervalMs: 20 });
const zones = new ZonesDriver(connect, { pollIntervalMs: 20 });
const sip = { ip: "10.20.0.50", network: "service" };

const xenGuest = () => ({ ...spec({ name: "xen-sip1", image: "linux-test", flavor: "small", host: { name: "xen-a", kind: "xen" }, last: 41 }), host: xenA.host });
const zone = () => ({ ...spec({ name: "zone-sip1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-a", kind: "zones" }, last: 42 }), host: solA.host });
const state = (h: EmulatedHost, file: string) => JSON.parse(readFileSync(path.join(h.state, file), "utf8"));

beforeAll(async () => {
  [xenA, solA] = await Promise.all([
    startEmulatedHost({ name: "xen-a", kind: "xen", port: 3631, sharedLvm: sharedDir("san-sip") }),
    startEmulatedHost({ name: "sol-a", kind: "zones", port: 3632 }),
  ]);
  await prepareXenHost(xenA, "golden-linux-test");
  await prepareZonesHost(solA, { name: "golden-solaris10-sparse" });
  await provisionGuest(xen, xenGuest(), recordingIo().io);
  await provisionGuest(zones, zone(), recordingIo().io);
}, 90_000);

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xenA, solA]);
});

describe("service IPs on an emulated Xen host", () => {
  const interfaces = () => readFileSync(path.join(sharedDir("san-sip"), "data/vg0/xen-sip1/etc/network/interfaces"), "utf8");

  it("dom0 puts the address on the running guest over SSH, announces it and writes it into the guest's interfaces file", async () => {
    const { io, lines } = recordingIo();
    await xen.attachServiceIp({ ...xenGuest(), serviceIps: [sip] }, sip, io);
    expect(state(xenA, "xen/domains.json")["xen-sip1"].serviceIps).toEqual(["10.20.0.50"]);
    expect(interfaces()).toContain("address 10.20.0.41/24\n    up ip addr add 10.20.0.50/32 dev eth1\n");
    expect(lines.some((l) => l.includes("root@10.20.0.41 arping -U -c 2 -I eth1 10.20.0.50"))).toBe(true);
    // Again: replace finds it there.
    await xen.attachServiceIp({ ...xenGuest(), serviceIps: [sip] }, sip, recordingIo().io);
    expect(state(xenA, "xen/domains.json")["xen-sip1"].serviceIps).toEqual(["10.20.0.50"]);
  });

  it("a move takes it off first and rewrites the file after; taking it off twice is no error", async () => {
    await xen.detachServiceIp(xenGuest(), sip, recordingIo().io, { persist: false });
    expect(state(xenA, "xen/domains.json")["xen-sip1"].serviceIps).toEqual([]);
    expect(interfaces()).toContain("up ip addr add 10.20.0.50/32");
    await xen.persistServiceIps(xenGuest(), recordingIo().io);
    expect(interfaces()).not.toContain("10.20.0.50");
    const { io, lines } = recordingIo();
    await xen.detachServiceIp(xenGuest(), sip, io);
    expect(lines.join("\n")).toContain("10.20.0.50 is not on eth1");
  });

  it("keeps the networks apart on dom0 with an nftables table, the routed pair let through, then forwarding on", async () => {
    await xen.applyNetworkPolicy(xenA.host, goldenNetworkPolicy, recordingIo().io);
    const nft = state(xenA, "nft.json");
    expect(nft.table).toBe("portal_isolation");
    expect(nft.text).toContain('iifname "xenbr1" oifname "xenbr2" accept comment "routed production to test"');
    expect(nft.text).not.toMatch(/iifname "xenbr0" oifname "xenbr[12]"/);
    expect(state(xenA, "sysctl.json")["net.ipv4.ip_forward"]).toBe("1");
  });
});

describe("service IPs on an emulated Solaris zones host", () => {
  it("gives the running zone a logical interface with the address and a net in its configuration; takes both away again", async () => {
    await zones.attachServiceIp({ ...zone(), serviceIps: [sip] }, sip, recordingIo().io);
    expect(state(solA, "zones/logical.json")["10.20.0.50"]).toEqual({ nic: "e1000g0", zone: "zone-sip1", up: true });
    expect((await runOn(solA, ["zonecfg", "-z", "zone-sip1", "export"])).stdout).toContain("add net\nset address=10.20.0.50/32\nset physical=e1000g0\nend");
    // Again: both are there already.
    const { io, lines } = recordingIo();
    await zones.attachServiceIp({ ...zone(), serviceIps: [sip] }, sip, io);
    expect(lines).toEqual(expect.arrayContaining(["10.20.0.50 is up already", "the zone's configuration has 10.20.0.50 already"]));

    await zones.detachServiceIp(zone(), sip, recordingIo().io);
    expect(state(solA, "zones/logical.json")["10.20.0.50"]).toBeUndefined();
    expect((await runOn(solA, ["zonecfg", "-z", "zone-sip1", "export"])).stdout).not.toContain("10.20.0.50");
  });

  it("keeps the networks apart with IP Filter, also between zones of the host", async () => {
    await zones.applyNetworkPolicy(solA.host, goldenNetworkPolicy, recordingIo().io);
    const ipf = state(solA, "ipf.json");
    expect(ipf).toMatchObject({ enabled: true, interceptLoopback: true });
    expect(ipf.rules).toContain("block in quick from 10.30.0.0/24 to 10.20.0.0/24");
    expect(ipf.rules).not.toContain("block in quick from 10.30.0.0/24 to 10.40.0.0/24");
    expect(ipf.rules).toHaveLength(4);
  });
});
