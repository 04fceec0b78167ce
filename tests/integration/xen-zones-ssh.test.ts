/**
 * The Xen and Solaris zones drivers, end to end over real SSH (OpenSSH on loopback, ssh2 on
 * our side) against host emulators standing in for xl/LVM and zonecfg/zoneadm/ZFS. Real Xen
 * and Solaris cannot run here: these tests check that the exact planned commands and files
 * reach the host and that the host ends in the state an admin would check.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import { xenDomainConfig } from "@/lib/drivers/xen/plan";
import { zonecfgFile } from "@/lib/drivers/zones/plan";
import { StepError, type DeploySpec, type HypervisorDriver, type StepIo } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { eq } from "drizzle-orm";
import { hosts, users } from "@/lib/db/schema";
import { encryptHostSecret } from "@/lib/drivers/transport/secrets";
import { destroyEnvironment, orderView } from "@/lib/orders/queries";
import * as migrateRoute from "@/app/api/v1/environments/[id]/migrate/route";
import * as reinstallRoute from "@/app/api/v1/environments/[id]/reinstall/route";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { KEY, spec } from "../fixtures/plan-orders";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder } from "../helpers/portal";
import { connectPeers, recordingIo, sharedDir, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xenA: EmulatedHost, xenB: EmulatedHost, solC: EmulatedHost, solD: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xenA, xenB, solC, solD].find((e) => e.host.id === h.id)!.transport();
const fast = { pollIntervalMs: 20 };
const xen = new XenDriver(connect, fast);
const zones = new ZonesDriver(connect, fast);

/** Runs argv on an emulated host over SSH. */
async function on(h: EmulatedHost, argv: string[], stdin?: string) {
  const t = h.transport();
  try {
    return await t.run(argv, { stdin });
  } finally {
    await t.close();
  }
}

async function provision(driver: HypervisorDriver, s: DeploySpec, io: StepIo) {
  for (const step of [driver.resolveImage, driver.packImage, driver.createStorage, driver.unpack, driver.configureNetwork, driver.glue, driver.boot, driver.waitReady]) {
    await step.call(driver, s, io);
  }
}

beforeAll(async () => {
  const san = sharedDir("san");
  [xenA, xenB, solC, solD] = await Promise.all([
    startEmulatedHost({ name: "xen-a", kind: "xen", port: 2231, sharedLvm: san }),
    startEmulatedHost({ name: "xen-b", kind: "xen", port: 2232, sharedLvm: san }),
    startEmulatedHost({ name: "sol-c", kind: "zones", port: 2233 }),
    startEmulatedHost({ name: "sol-d", kind: "zones", port: 2234 }),
  ]);
  connectPeers([xenA, xenB]);
  connectPeers([solC, solD]);

  // What an admin prepares on a Xen host: kernel, and a golden volume with the image's files.
  for (const h of [xenA, xenB]) {
    for (const f of ["vmlinuz", "initrd.img"]) await h.transport().writeFile(`${h.state}/images/${f}`, "kernel\n");
  }
  const gold = [
    ["lvcreate", "-L", "2G", "-n", "golden-linux-test", "vg0"],
    ["mkfs.ext4", "-q", "-F", "/dev/vg0/golden-linux-test"],
    ["mkdir", "-p", `${xenA.state}/mnt/golden`],
    ["mount", "/dev/vg0/golden-linux-test", `${xenA.state}/mnt/golden`],
  ];
  for (const argv of gold) {
    const r = await on(xenA, argv);
    expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  }
  await xenA.transport().writeFile(`${xenA.state}/mnt/golden/etc/os-release`, 'PRETTY_NAME="Debian GNU/Linux 12 (golden)"\n');
  expect((await on(xenA, ["umount", `${xenA.state}/mnt/golden`])).code).toBe(0);

  // ... and on a Solaris host: the zones dataset and installed, halted golden zones.
  for (const h of [solC, solD]) expect((await on(h, ["zfs", "create", "-o", `mountpoint=${h.state}/zones`, "rpool/zones"])).code).toBe(0);
  for (const [golden, create] of [["golden-solaris10-sparse", "create"], ["golden-solaris10-whole-capped", "create -b"]]) {
    const zp = `${solC.state}/zones/${golden}`;
    await solC.transport().writeFile(`${solC.state}/${golden}.cfg`, `${create}\nset zonepath=${zp}\nset autoboot=false\nverify\ncommit\n`);
    for (const argv of [
      ["zonecfg", "-z", golden, "-f", `${solC.state}/${golden}.cfg`],
      ["zfs", "create", "-o", `mountpoint=${zp}`, `rpool/zones/${golden}`],
      ["chmod", "700", zp],
      ["zoneadm", "-z", golden, "install"],
    ]) {
      const r = await on(solC, argv);
      expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
    }
  }
}, 60_000);

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xenA, xenB, solC, solD]);
});

describe("Xen over SSH (emulated xl and LVM)", () => {
  const web = () => spec({ name: "xen-web1", image: "linux-test", flavor: "capped-2cpu-4g", host: { name: "xen-a", kind: "xen" }, last: 21 });
  const onA = () => ({ ...web(), host: xenA.host });

  it("delivers a guest: snapshot of the golden volume, domain config with a vif per network, glue on its disk, started and answering", async () => {
    const s = onA();
    const { io, lines } = recordingIo();
    await provision(xen, s, io);

    const lvs = await on(xenA, ["lvs", "--noheadings", "--separator", "|", "-o", "lv_name,origin", "vg0/xen-web1"]);
    expect(lvs.stdout.trim()).toBe("xen-web1|golden-linux-test");
    expect(readFileSync(`${xenA.state}/etc/xen/xen-web1.cfg`, "utf8")).toBe(xenDomainConfig(s, XenDriver.config(s.host)));
    expect(readFileSync(`${xenA.state}/etc/xen/xen-web1.cfg`, "utf8")).toContain("vif     = [ 'mac=02:00:00:1e:00:15,bridge=xenbr1', 'mac=02:00:00:14:00:15,bridge=xenbr0' ]");

    const list = await on(xenA, ["xl", "list"]);
    expect(list.stdout).toMatch(/^xen-web1\s+\d+\s+4096\s+4\s+-b----/m);
    const domains = JSON.parse(readFileSync(`${xenA.state}/xen/domains.json`, "utf8"));
    expect(domains["xen-web1"]).toMatchObject({ weight: 1024, cap: 200 }); // cpu_weight and cap of the domain config, from the capped flavor

    // The guest's own disk holds what glue wrote (the golden's files stay).
    const disk = path.join(sharedDir("san"), "data/vg0/xen-web1");
    expect(readFileSync(`${disk}/etc/hostname`, "utf8")).toBe("xen-web1\n");
    expect(readFileSync(`${disk}/etc/os-release`, "utf8")).toContain("golden");
    expect(readFileSync(`${disk}/etc/network/interfaces`, "utf8")).toContain("address 10.30.0.21/24\n    gateway 10.30.0.1");
    expect(readFileSync(`${disk}/root/.ssh/authorized_keys`, "utf8")).toBe(`${KEY}\n`);
    expect(statSync(`${disk}/root/.ssh/authorized_keys`).mode & 0o777).toBe(0o600);
    expect(lines).toContain("$ xl create " + `${xenA.state}/etc/xen/xen-web1.cfg`);
    expect(lines.some((l) => l.includes("to answer on SSH: yes"))).toBe(true);
    expect(lines[0]).toBe("note: this Xen command plan's deployment, stop/start and destroy were run on a real Xen 4.17 host; migration, snapshots, resize, backups and a reinstall keeping /data only against emulators");
    expect(await xen.status(s)).toBe("running");
  });

  it("a rerun of storage and boot finds the work done and says so", async () => {
    const s = onA();
    const { io, lines } = recordingIo();
    await xen.createStorage(s, io);
    await xen.boot(s, io);
    expect(lines.filter((l) => l.startsWith("already done")).length).toBe(2);
    expect(lines.join("\n")).toMatch(/already exists in volume group "vg0"; it matches this order/);
    expect((await on(xenA, ["xl", "list"])).stdout.match(/^xen-web1\s/gm)).toHaveLength(1);
  });

  it("a volume of that name that is not this order's is not taken over: the step says what to do", async () => {
    expect((await on(xenA, ["lvcreate", "-L", "1G", "-n", "clash01", "vg0"])).code).toBe(0);
    const s = { ...onA(), hostname: "clash01" };
    const { io } = recordingIo();
    const err = await xen.createStorage(s, io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/already exists.*does not match this order: it is not a snapshot of golden-linux-test.*lvremove -f vg0\/clash01/);
  });

  it("takes an LVM snapshot of the running guest's disk for a backup", async () => {
    const { io } = recordingIo();
    await xen.snapshot(onA(), "backup-20261125", io);
    await xen.snapshot(onA(), "backup-20261125", io); // a rerun finds it there
    expect((await on(xenA, ["lvs", "--noheadings", "--separator", "|", "-o", "lv_name,origin", "vg0/xen-web1-backup-20261125"])).stdout.trim()).toBe("xen-web1-backup-20261125|xen-web1");
    expect((await on(xenA, ["lvremove", "-f", "vg0/xen-web1-backup-20261125"])).code).toBe(0);
  });

  it("builds a guest from an install file: new volume, filesystem, the archive unpacked, then glue", async () => {
    // The admin's install file: a root filesystem archive in the host's image directory.
    const src = `${xenA.state}/build/linux-web`;
    await xenA.transport().writeFile(`${src}/etc/os-release`, 'PRETTY_NAME="Debian 12 + nginx (install file)"\n');
    expect((await on(xenA, ["tar", "-czf", `${xenA.state}/images/linux-web.tar.gz`, "-C", src, "."])).code).toBe(0);
    const s = { ...spec({ name: "xen-inst1", image: "linux-web", flavor: "small", host: { name: "xen-a", kind: "xen" }, last: 22 }), host: xenA.host };
    const { io, lines } = recordingIo();
    await provision(xen, s, io);
    const disk = path.join(sharedDir("san"), "data/vg0/xen-inst1");
    expect(readFileSync(`${disk}/etc/os-release`, "utf8")).toContain("install file");
    expect(readFileSync(`${disk}/etc/hostname`, "utf8")).toBe("xen-inst1\n");
    expect(lines).toContain("$ mkfs.ext4 -q -F -L root /dev/vg0/xen-inst1");
    expect((await on(xenA, ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", "lv_size,origin", "vg0/xen-inst1"])).stdout.trim()).toBe(`${10 * 1024 ** 3}|`);
    await xen.halt(s, io);
    await xen.destroy(s, io);
    expect(await xen.status(s)).toBe("missing");
  });

  it("builds a guest as a full copy of the golden volume, grown to the flavor's disk", async () => {
    for (const argv of [["lvcreate", "-L", "2G", "-n", "golden-linux-db", "vg0"], ["dd", "if=/dev/vg0/golden-linux-test", "of=/dev/vg0/golden-linux-db", "bs=4M"]]) {
      expect((await on(xenA, argv)).code, argv.join(" ")).toBe(0);
    }
    const s = { ...spec({ name: "xen-copy1", image: "linux-db", flavor: "small", host: { name: "xen-a", kind: "xen" }, last: 23 }), host: xenA.host };
    const { io, lines } = recordingIo();
    await provision(xen, s, io);
    expect((await on(xenA, ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", "lv_size,origin", "vg0/xen-copy1"])).stdout.trim()).toBe(`${10 * 1024 ** 3}|`);
    expect(readFileSync(path.join(sharedDir("san"), "data/vg0/xen-copy1/etc/os-release"), "utf8")).toContain("golden");
    expect(lines).toContain("  The filesystem on /dev/vg0/xen-copy1 is now 2621440 (4k) blocks long.");
    await xen.halt(s, io);
    await xen.destroy(s, io);
  });

  it("snapshot, change, revert: the guest's disk is back as it was, same domain config and MACs; then a resize grows it", async () => {
    const s = { ...spec({ name: "xen-snap1", image: "linux-db", flavor: "small", host: { name: "xen-a", kind: "xen" }, last: 25 }), host: xenA.host };
    const { io, lines } = recordingIo();
    await provision(xen, s, io);
    const disk = path.join(sharedDir("san"), "data/vg0/xen-snap1");
    const config = `${xenA.state}/etc/xen/xen-snap1.cfg`;
    const before = readFileSync(config, "utf8");
    writeFileSync(`${disk}/etc/motd`, "before the snapshot\n");
    const tag = "portal-0123456789abcdef";
    expect(await xen.takeSnapshot!(s, tag, io)).toEqual({ withMemory: false, sizeBytes: null });
    expect((await on(xenA, ["lvs", "--noheadings", "--separator", "|", "-o", "lv_name,origin", `vg0/xen-snap1-${tag}`])).stdout.trim()).toBe(`xen-snap1-${tag}|xen-snap1`);
    writeFileSync(`${disk}/etc/motd`, "changed after\n");

    expect(await xen.revertSnapshot!(s, { tag, withMemory: false }, io)).toEqual({ running: true });
    expect(readFileSync(`${disk}/etc/motd`, "utf8")).toBe("before the snapshot\n");
    expect(lines).toContain(`$ lvconvert --merge vg0/xen-snap1-${tag}`);
    expect(readFileSync(config, "utf8")).toBe(before); // name, vifs and MACs untouched
    expect(await xen.status(s)).toBe("running");
    // Taken again after the merge: the owner can revert to it once more, then delete it.
    expect((await on(xenA, ["lvs", "--noheadings", "-o", "lv_name", `vg0/xen-snap1-${tag}`])).code).toBe(0);
    await xen.deleteSnapshot!(s, { tag, withMemory: false }, io);
    await xen.deleteSnapshot!(s, { tag, withMemory: false }, io); // a rerun finds it gone
    expect((await on(xenA, ["lvs", "--noheadings", "-o", "lv_name", `vg0/xen-snap1-${tag}`])).code).toBe(5);

    const large = spec({ name: "xen-snap1", image: "linux-db", flavor: "large", host: { name: "xen-a", kind: "xen" }, last: 25 }).flavor;
    await xen.resize!({ ...s, flavor: large }, s.flavor, io);
    expect((await on(xenA, ["xl", "list"])).stdout).toMatch(/^xen-snap1\s+\d+\s+8192\s+4\s+/m);
    expect((await on(xenA, ["lvs", "--noheadings", "--units", "b", "--nosuffix", "-o", "lv_size", "vg0/xen-snap1"])).stdout.trim()).toBe(String(40 * 1024 ** 3));
    expect(lines).toContain("  The filesystem on /dev/vg0/xen-snap1 is now 10485760 (4k) blocks long.");
    await xen.halt(s, io);
    await xen.destroy(s, io);
  });

  it("a guest that ignores the shutdown is forced off after the host's timeout", async () => {
    const s = { ...spec({ name: "xen-stuck1", image: "linux-test", flavor: "small", host: { name: "xen-a", kind: "xen" }, last: 24 }), host: { ...xenA.host, config: { ...xenA.host.config, shutdownTimeoutSec: 1 } } };
    const { io, lines } = recordingIo();
    await provision(xen, s, io);
    // The guest's OS hangs on poweroff (the emulator's domain record says so).
    const file = `${xenA.state}/xen/domains.json`;
    const domains = JSON.parse(readFileSync(file, "utf8"));
    domains["xen-stuck1"].ignoresShutdown = true;
    writeFileSync(file, JSON.stringify(domains));
    await xen.stop(s, io);
    expect(lines).toContain("exit code 124: xen-stuck1 did not power off within 1 s; forcing it off");
    expect((await on(xenA, ["xl", "list", "xen-stuck1"])).code).not.toBe(0);
    expect(await xen.status(s)).toBe("stopped"); // its disk is still there
    await xen.destroy(s, io);
    expect(await xen.status(s)).toBe("missing");
  });

  it("live-migrates to another Xen host on the same SAN: it keeps running and keeps its MACs", async () => {
    const s = onA();
    const { io, progress, lines } = recordingIo();
    const result = await xen.migrate(s, xenB.host, io);
    expect(result.mode).toBe("live");
    expect(result.totalMs).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe("100% running on xen-b");
    expect(lines).toContain("no domain named xen-web1 on xen-b yet: good");
    expect((await on(xenA, ["xl", "list", "xen-web1"])).code).not.toBe(0);
    expect((await on(xenB, ["xl", "list", "xen-web1"])).stdout).toMatch(/^xen-web1\s/m);
    const moved = JSON.parse(readFileSync(`${xenB.state}/xen/domains.json`, "utf8"))["xen-web1"];
    expect(moved.vifs.map((v: { mac: string }) => v.mac)).toEqual(["02:00:00:1e:00:15", "02:00:00:14:00:15"]);
    expect(existsSync(`${xenB.state}/etc/xen/xen-web1.cfg`)).toBe(true);
    expect(existsSync(`${xenA.state}/etc/xen/xen-web1.cfg`)).toBe(false);
    expect(await xen.status({ ...s, host: xenB.host })).toBe("running");
  });

  it("tears down on the new host: shutdown, destroy, volume removed; a second teardown finds nothing to do", async () => {
    const s = { ...onA(), host: xenB.host };
    for (let round = 0; round < 2; round++) {
      const { io } = recordingIo();
      await xen.halt(s, io);
      await xen.destroy(s, io);
    }
    expect((await on(xenB, ["lvs", "vg0/xen-web1"])).stderr).toMatch(/Failed to find logical volume "vg0\/xen-web1"/);
    expect(await xen.status(s)).toBe("missing");
  });
});

describe("Solaris zones over SSH (emulated zonecfg, zoneadm, zfs, zlogin)", () => {
  const db = () => ({ ...spec({ name: "zone-db1", image: "solaris10-whole-capped", flavor: "capped-2cpu-4g", host: { name: "sol-c", kind: "zones" }, last: 31 }), host: solC.host });

  it("delivers a capped whole-root zone cloned from the golden zone: caps in its configuration, sysidcfg, running and answering", async () => {
    const s = db();
    const { io, lines } = recordingIo();
    await provision(zones, s, io);

    const exported = (await on(solC, ["zonecfg", "-z", "zone-db1", "export"])).stdout;
    expect(exported).toContain(`set zonepath=${solC.state}/zones/zone-db1`);
    expect(exported).toContain("add capped-cpu\nset ncpus=2\nend");
    expect(exported).toContain("add capped-memory\nset physical=4g\nset swap=4g\nend");
    expect(exported).toContain("limit=40"); // FSS shares
    expect(exported).not.toContain("inherit-pkg-dir"); // whole root
    expect(exported).toContain("set address=10.30.0.31/24\nset physical=e1000g1\nset defrouter=10.30.0.1");
    expect(readFileSync(`${solC.state}/var/tmp/portal/zone-db1.zonecfg`, "utf8")).toBe(zonecfgFile(s, ZonesDriver.config(s.host)));

    expect((await on(solC, ["zoneadm", "-z", "zone-db1", "list", "-p"])).stdout).toMatch(/^\d+:zone-db1:running:/);
    expect((await on(solC, ["zlogin", "zone-db1", "hostname"])).stdout.trim()).toBe("zone-db1");
    expect((await on(solC, ["zfs", "get", "-H", "-o", "value", "origin", "rpool/zones/zone-db1"])).stdout.trim()).toBe("rpool/zones/golden-solaris10-whole-capped@SUNWzone1");

    const sysid = `${solC.state}/zones/zone-db1/root/etc/sysidcfg`;
    expect(statSync(sysid).mode & 0o777).toBe(0o600);
    expect(readFileSync(sysid, "utf8")).toMatch(/^root_password=[./A-Za-z0-9]{13}$/m); // a hash, never clear text
    expect(readFileSync(sysid, "utf8")).toContain("timezone=Europe/Berlin\n");
    expect(readFileSync(`${solC.state}/zones/zone-db1/root/.ssh/authorized_keys`, "utf8")).toBe(`${KEY}\n`);
    expect(lines.some((l) => l.includes("(ssh service online): yes"))).toBe(true);
    expect(lines).toContain("note: this Solaris command plan has not been run on a real Solaris host yet (it was tested against emulators)");
    expect(lines.join("\n")).not.toMatch(/root_password=/); // file contents are not logged
  });

  it("a rerun of storage and unpack finds the zone configured as ordered and installed", async () => {
    const { io, lines } = recordingIo();
    await zones.createStorage(db(), io);
    await zones.unpack(db(), io);
    expect(lines.filter((l) => l.startsWith("already done"))).toHaveLength(3); // configured, installed, /data made
    expect(lines.join("\n")).toContain("no /data kept from an earlier install: a new one is made");
    expect(lines.join("\n")).toContain("already installed; create not allowed.; it matches this order");
  });

  it("a zone of that name configured differently is not taken over: the step says what to do", async () => {
    await solC.transport().writeFile(`${solC.state}/other.cfg`, `create\nset zonepath=${solC.state}/zones/elsewhere\nverify\ncommit\n`);
    expect((await on(solC, ["zonecfg", "-z", "zone-other", "-f", `${solC.state}/other.cfg`])).code).toBe(0);
    const err = await zones.createStorage({ ...db(), hostname: "zone-other" }, recordingIo().io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/Zone exists.*does not match this order: it lacks set zonepath=.*zone-other.*zonecfg -z zone-other delete -F/s);
  });

  it("a sparse-root zone inherits /lib, /platform, /sbin and /usr", async () => {
    const s = { ...spec({ name: "zone-sp1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-c", kind: "zones" }, last: 32 }), host: solC.host };
    await provision(zones, s, recordingIo().io);
    const exported = (await on(solC, ["zonecfg", "-z", "zone-sp1", "export"])).stdout;
    for (const dir of ["/lib", "/platform", "/sbin", "/usr"]) expect(exported).toContain(`add inherit-pkg-dir\nset dir=${dir}\nend`);
    expect(exported).not.toContain("capped-cpu");
    const { io } = recordingIo();
    await zones.halt(s, io);
    await zones.destroy(s, io);
    expect((await on(solC, ["zoneadm", "-z", "zone-sp1", "list", "-p"])).stderr).toContain("No such zone configured");
  });

  it("snapshot, change, revert of a zone by ZFS; a resize changes its caps with zonecfg and its quota", async () => {
    const s = { ...spec({ name: "zone-snap1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-c", kind: "zones" }, last: 36 }), host: solC.host };
    const { io, lines } = recordingIo();
    await provision(zones, s, io);
    const motd = `${solC.state}/zones/zone-snap1/root/etc/motd`;
    await solC.transport().writeFile(motd, "before the snapshot\n");
    const data = `${solC.state}/zones/zone-snap1/root/data/results.txt`; // the zone's /data dataset, mounted while it runs
    writeFileSync(data, "run 1\n");
    const tag = "portal-0123456789abcdef";
    expect(await zones.takeSnapshot!(s, tag, io)).toEqual({ withMemory: false, sizeBytes: null });
    await zones.takeSnapshot!(s, tag, io); // a rerun finds it there
    await solC.transport().writeFile(motd, "changed after\n");
    writeFileSync(data, "run 2\n");
    // A newer snapshot stops the rollback, and the step says what to do.
    await zones.takeSnapshot!(s, "portal-newer", io);
    const refused = await zones.revertSnapshot!(s, { tag, withMemory: false }, io).catch((e) => e);
    expect(refused).toBeInstanceOf(StepError);
    expect(refused.message).toMatch(/more recent snapshots.*delete the newer snapshots of this environment first/s);
    await zones.deleteSnapshot!(s, { tag: "portal-newer", withMemory: false }, io);

    expect(await zones.revertSnapshot!(s, { tag, withMemory: false }, io)).toEqual({ running: false }); // the failed revert left it halted
    expect(readFileSync(motd, "utf8")).toBe("before the snapshot\n");
    expect(lines).toContain(`$ zfs rollback rpool/zones/zone-snap1@${tag}`);
    await zones.start!(s, io);
    expect(await zones.revertSnapshot!(s, { tag, withMemory: false }, io)).toEqual({ running: true });
    expect(readFileSync(data, "utf8")).toBe("run 1\n"); // /data went back with the root
    expect(lines).toContain(`$ zfs rollback rpool/zones/zone-snap1/data@${tag}`);
    expect((await on(solC, ["zoneadm", "-z", "zone-snap1", "list", "-p"])).stdout).toMatch(/:zone-snap1:running:/);
    await zones.deleteSnapshot!(s, { tag, withMemory: false }, io);
    await zones.deleteSnapshot!(s, { tag, withMemory: false }, io); // gone already

    const capped = spec({ name: "zone-snap1", image: "solaris10-sparse", flavor: "capped-2cpu-4g", host: { name: "sol-c", kind: "zones" }, last: 36 }).flavor;
    await zones.resize!({ ...s, flavor: capped }, s.flavor, io);
    let exported = (await on(solC, ["zonecfg", "-z", "zone-snap1", "export"])).stdout;
    expect(exported).toContain("add capped-cpu\nset ncpus=2\nend");
    expect(exported).toContain("add capped-memory\nset physical=4g\nset swap=4g\nend");
    expect(exported).toContain("limit=40");
    const bigger = { ...capped, vcpus: 6, diskGb: 60, cpuCap: 3 };
    await zones.resize!({ ...s, flavor: bigger }, capped, io);
    exported = (await on(solC, ["zonecfg", "-z", "zone-snap1", "export"])).stdout;
    expect(exported).toContain("add capped-cpu\nset ncpus=3\nend");
    expect(exported).toContain("limit=60");
    await zones.resize!({ ...s, flavor: { ...bigger, cpuCap: null, memoryCapMb: null } }, bigger, io);
    exported = (await on(solC, ["zonecfg", "-z", "zone-snap1", "export"])).stdout;
    expect(exported).not.toContain("capped-");
    expect(JSON.parse(readFileSync(`${solC.state}/zfs/state.json`, "utf8")).datasets["rpool/zones/zone-snap1"].quota).toBe("60g");
    expect((await on(solC, ["zoneadm", "-z", "zone-snap1", "list", "-p"])).stdout).toMatch(/:zone-snap1:running:/);
    await zones.halt(s, io);
    await zones.destroy(s, io);
  });

  it("installs a zone from the global zone's packages on a new ZFS dataset (mode 700 zonepath)", async () => {
    const s = { ...spec({ name: "zone-pkg1", image: "solaris10-pkg", flavor: "small", host: { name: "sol-c", kind: "zones" }, last: 35, key: null }), host: solC.host };
    const { io, lines } = recordingIo();
    await provision(zones, s, io);
    expect((await on(solC, ["zfs", "get", "-H", "-o", "value", "mountpoint", "rpool/zones/zone-pkg1"])).stdout.trim()).toBe(`${solC.state}/zones/zone-pkg1`);
    expect(statSync(`${solC.state}/zones/zone-pkg1`).mode & 0o777).toBe(0o700);
    expect(lines).toContain("  Zone <zone-pkg1> is initialized.");
    expect((await on(solC, ["zoneadm", "-z", "zone-pkg1", "list", "-p"])).stdout).toMatch(/:zone-pkg1:running:/);
    expect(existsSync(`${solC.state}/zones/zone-pkg1/root/.ssh/authorized_keys`)).toBe(false); // the owner has no key
    await zones.halt(s, io);
    await zones.destroy(s, io);
    expect((await on(solC, ["zfs", "list", "-H", "-o", "name"])).stdout).not.toContain("zone-pkg1");
  });

  it("a zone whose network names a device the host lacks does not boot, and the step says which", async () => {
    const s = { ...spec({ name: "zone-nic1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-c", kind: "zones" }, last: 33, bridges: ["e1000g0", "e1000g7"] }), host: { ...solC.host, config: { ...solC.host.config, physicalByNetwork: {} } } };
    const { io } = recordingIo();
    for (const step of [zones.resolveImage, zones.packImage, zones.createStorage, zones.unpack, zones.configureNetwork, zones.glue]) await step.call(zones, s, io);
    const err = await zones.boot(s, io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/zoneadm -z zone-nic1 boot` failed on .* with exit code 1: zoneadm: zone 'zone-nic1': could not find network interface 'e1000g7' in the global zone/);
    await zones.halt(s, io);
    await zones.destroy(s, io);
  });

  it("a zone whose sysidcfg is broken never answers: waiting gives up with the zone's last answer", async () => {
    const s = { ...spec({ name: "zone-sys1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-c", kind: "zones" }, last: 34 }), host: solC.host };
    const { io } = recordingIo();
    for (const step of [zones.resolveImage, zones.packImage, zones.createStorage, zones.unpack, zones.configureNetwork, zones.glue]) await step.call(zones, s, io);
    // A typo in sysidcfg: the real first boot ignores the whole file and waits at the console.
    await solC.transport().writeFile(`${solC.state}/zones/zone-sys1/root/etc/sysidcfg`, "system_locale=C\ntimezone=UTC\nroot_pasword=x\n", { mode: 0o600 });
    await zones.boot(s, io);
    const err = await zones.waitReady(s, io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/gave up waiting for zone-sys1 to answer \(ssh service online\) on .* after 90 tries \(last answer: uninitialized\)/);
    await zones.halt(s, io);
    await zones.destroy(s, io);
  });

  it("moves cold to another Solaris host by detach, zfs send | ssh zfs receive, attach; the source is cleaned up", async () => {
    const s = db();
    const { io, lines } = recordingIo();
    writeFileSync(`${solC.state}/zones/zone-db1/root/data/moved.txt`, "travels with the zone\n");
    const result = await zones.migrate(s, solD.host, io);
    expect(result.mode).toBe("cold");
    expect(result.downtimeMs).not.toBeNull();
    expect(zones.capabilities).toMatchObject({ liveMigration: false, coldMove: true });
    expect((await on(solD, ["zoneadm", "-z", "zone-db1", "list", "-p"])).stdout).toMatch(new RegExp(`^\\d+:zone-db1:running:${solD.state}/zones/zone-db1:`));
    expect((await on(solD, ["zonecfg", "-z", "zone-db1", "export"])).stdout).toContain("set ncpus=2");
    expect(readFileSync(`${solD.state}/zones/zone-db1/root/etc/sysidcfg`, "utf8")).toContain("hostname=zone-db1");
    expect((await on(solD, ["zlogin", "zone-db1", "cat", "/data/moved.txt"])).stdout).toBe("travels with the zone\n");
    expect((await on(solC, ["zoneadm", "-z", "zone-db1", "list", "-p"])).code).not.toBe(0);
    expect((await on(solC, ["zfs", "list", "-H", "-o", "name"])).stdout).not.toContain("rpool/zones/zone-db1");
    expect(lines.some((l) => l.includes(`sh -c 'zfs send -R "$1" | ssh "$2" zfs receive -F "$3"' sh rpool/zones/zone-db1@portal-move-`))).toBe(true);
    expect(await zones.status({ ...s, host: solD.host })).toBe("running");
  });

  it("tears down on the new host; a second teardown finds nothing to do", async () => {
    const s = { ...db(), host: solD.host };
    for (let round = 0; round < 2; round++) {
      const { io } = recordingIo();
      await zones.halt(s, io);
      await zones.destroy(s, io);
    }
    expect(await zones.status(s)).toBe("missing");
    expect((await on(solD, ["zfs", "list", "-H", "-o", "name"])).stdout).not.toContain("zone-db1");
  });
});

describe("orders through the portal's pipeline onto emulated Xen and Solaris hosts over SSH", () => {
  let worker: RunningWorkers;

  beforeAll(async () => {
    const { db } = await bootPortal();
    // Only the emulated hosts take orders in this file: the seeded sim hosts are drained.
    await db.update(hosts).set({ state: "draining" }).where(eq(hosts.kind, "sim"));
    // xen-b and sol-d join later, as the targets of the moves.
    for (const h of [xenA, solC, xenB, solD]) {
      await db.insert(hosts).values({
        state: h === xenB || h === solD ? "draining" : "active",
        id: h.host.id, name: h.name, kind: h.host.kind, address: h.sshd.host, port: h.sshd.port, sshUser: h.sshd.user,
        sshPrivateKey: encryptHostSecret(h.host.id, h.sshd.privateKey), hostKeyFingerprint: h.sshd.hostKeyFingerprint,
        cpuCapacity: 8, memoryMbCapacity: 16384, diskGbCapacity: 500, config: h.host.config,
      });
    }
    worker = await startWorkers();
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it("a customer's Xen order and capped zone order are delivered by the pipeline, each step logged, and retired again", async () => {
    const { db } = await bootPortal();
    const group = await makeGroup(db, { autoApprove: true });
    const customer = await makeUser(db, "customer", group.slug);
    await db.update(users).set({ sshPublicKey: KEY }).where(eq(users.id, customer.id));

    const xenOrder = await order(db, customer, { image: "linux-test", flavor: "small", name: "pipe-xen1" });
    const zoneOrder = await order(db, customer, { image: "solaris10-whole-capped", flavor: "capped-2cpu-4g", name: "pipe-zone1" });
    const [xenView, zoneView] = await Promise.all([waitForOrder(db, xenOrder.id, undefined, 60_000), waitForOrder(db, zoneOrder.id, undefined, 60_000)]);

    expect(xenView.status, xenView.reason ?? "").toBe("ready");
    expect(xenView.environment?.host).toBe("xen-a");
    const createLog = xenView.steps.find((st) => st.name === "boot")!.log.map((l) => l.line);
    expect(createLog).toContain(`$ xl create ${xenA.state}/etc/xen/pipe-xen1.cfg`);
    const prod = xenView.environment!.addresses.find((a) => a.network === "production")!;
    expect(readFileSync(`${xenA.state}/etc/xen/pipe-xen1.cfg`, "utf8")).toContain(`mac=${prod.mac},bridge=xenbr1`);
    expect((await on(xenA, ["xl", "list", "pipe-xen1"])).code).toBe(0);

    expect(zoneView.status, zoneView.reason ?? "").toBe("ready");
    expect(zoneView.environment?.host).toBe("sol-c");
    expect((await on(solC, ["zonecfg", "-z", "pipe-zone1", "export"])).stdout).toContain("add capped-cpu\nset ncpus=2\nend");
    expect((await on(solC, ["zoneadm", "-z", "pipe-zone1", "list", "-p"])).stdout).toMatch(/:pipe-zone1:running:/);
    for (const view of [xenView, zoneView]) for (const st of view.steps) expect(st.status, `${st.name}`).toBe("succeeded");

    // Moves by an admin through the API: the Xen guest live, the zone cold (only when asked for).
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.id, xenB.host.id));
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.id, solD.host.id));
    const admin = await makeUser(db, "admin", group.slug);
    const adminToken = await tokenFor(db, admin);
    const move = (envId: string, body: Record<string, unknown>) =>
      invoke(migrateRoute.POST, "POST", `/api/v1/environments/${envId}/migrate`, { token: adminToken, params: { id: envId }, body });
    const moved = async (orderId: string, host: string) =>
      waitFor(
        () => orderView(db, orderId),
        (v) => v.environment?.host === host && v.environment.migrations[0]?.status === "succeeded",
        { timeoutMs: 60_000, what: `${orderId} on ${host}` },
      );

    const refused = await move(zoneView.environment!.id, { host: "sol-d" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/cannot be migrated live; they offer only a cold move .*"cold": true/);
    const coldMove = await move(zoneView.environment!.id, { host: "sol-d", cold: true });
    expect(coldMove.status).toBe(202);
    expect(coldMove.body).toMatchObject({ action: "move", mode: "cold", targetHost: { name: "sol-d" } });
    const zoneMoved = await moved(zoneOrder.id, "sol-d");
    expect(zoneMoved.environment!.migrations[0]!.result).toMatchObject({ mode: "cold" });
    expect(zoneMoved.environment!.migrations[0]!.result!.downtimeMs).toBeGreaterThan(0);
    expect(zoneMoved.environment!.addresses).toEqual(zoneView.environment!.addresses);
    expect((await on(solD, ["zoneadm", "-z", "pipe-zone1", "list", "-p"])).stdout).toMatch(/:pipe-zone1:running:/);
    expect((await on(solC, ["zoneadm", "-z", "pipe-zone1", "list", "-p"])).code).not.toBe(0);

    const liveMove = await move(xenView.environment!.id, { host: "xen-b" });
    expect(liveMove.status).toBe(202);
    expect(liveMove.body).toMatchObject({ action: "migrate", mode: "live" });
    const xenMoved = await moved(xenOrder.id, "xen-b");
    expect(xenMoved.environment!.migrations[0]!.result).toMatchObject({ mode: "live" });
    expect(xenMoved.environment!.addresses).toEqual(xenView.environment!.addresses);
    expect((await on(xenB, ["xl", "list", "pipe-xen1"])).code).toBe(0);

    for (const o of [xenOrder, zoneOrder]) await destroyEnvironment(db, customer, o.id);
    const [xenGone, zoneGone] = await Promise.all([waitForOrder(db, xenOrder.id, ["retired", "failed"], 60_000), waitForOrder(db, zoneOrder.id, ["retired", "failed"], 60_000)]);
    expect(xenGone.status, xenGone.reason ?? "").toBe("retired");
    expect(zoneGone.status, zoneGone.reason ?? "").toBe("retired");
    expect((await on(xenB, ["lvs", "vg0/pipe-xen1"])).code).not.toBe(0);
    expect((await on(solD, ["zoneadm", "-z", "pipe-zone1", "list", "-p"])).code).not.toBe(0);
  });

  it("a zone keeps /data across a reinstall with keepData and starts with an empty /data without; destroy removes it", async () => {
    const { db } = await bootPortal();
    const group = await makeGroup(db, { autoApprove: true });
    const customer = await makeUser(db, "customer", group.slug);
    const token = await tokenFor(db, customer);
    const o = await order(db, customer, { image: "solaris10-sparse", flavor: "small", name: "pipe-zone2" });
    const view = await waitForOrder(db, o.id, undefined, 60_000);
    expect(view.status, view.reason ?? "").toBe("ready");
    const h = [solC, solD].find((e) => e.name === view.environment!.host)!;
    const envId = view.environment!.id;
    const reinstall = async (body: Record<string, unknown>) => {
      const r = await invoke(reinstallRoute.POST, "POST", `/api/v1/environments/${envId}/reinstall`, { token, params: { id: envId }, body });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const done = await waitFor(() => orderView(db, o.id), (v) => v.status === "ready" || v.status === "failed", { timeoutMs: 60_000, what: "the reinstall" });
      expect(done.status, done.reason ?? "").toBe("ready");
      return done;
    };
    const readData = () => on(h, ["zlogin", "pipe-zone2", "cat", "/data/notes.txt"]);

    // The zone mounts its own dataset at /data; the owner writes a file there.
    expect((await on(h, ["zonecfg", "-z", "pipe-zone2", "export"])).stdout).toContain("add fs\nset dir=/data\nset special=rpool/zones/pipe-zone2/data\nset type=zfs\nend");
    writeFileSync(`${h.state}/zones/pipe-zone2/root/data/notes.txt`, "kept across reinstalls\n");
    writeFileSync(`${h.state}/zones/pipe-zone2/root/etc/motd`, "on the old root\n");
    expect((await readData()).stdout).toBe("kept across reinstalls\n");

    const kept = await reinstall({ keepData: true });
    expect(kept.environment!.addresses).toEqual(view.environment!.addresses);
    expect((await on(h, ["zoneadm", "-z", "pipe-zone2", "list", "-p"])).stdout).toMatch(/:pipe-zone2:running:/);
    expect((await readData()).stdout).toBe("kept across reinstalls\n");
    expect(existsSync(`${h.state}/zones/pipe-zone2/root/etc/motd`)).toBe(false); // the root is the golden zone's again
    expect((await on(h, ["zfs", "list", "-H", "-o", "name"])).stdout).not.toContain("pipe-zone2-kept-data");

    await reinstall({});
    const gone = await readData();
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain("cannot open /data/notes.txt");
    expect((await on(h, ["zfs", "list", "-H", "-o", "name", "rpool/zones/pipe-zone2/data"])).code).toBe(0); // a new, empty /data

    await destroyEnvironment(db, customer, o.id);
    expect((await waitForOrder(db, o.id, ["retired", "failed"], 60_000)).status).toBe("retired");
    expect((await on(h, ["zfs", "list", "-H", "-o", "name"])).stdout).not.toContain("pipe-zone2");
  });
});
