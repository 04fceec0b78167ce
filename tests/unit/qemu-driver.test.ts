import { describe, expect, it } from "vitest";
import { guestFiles, qemuArgv, type QemuPlan } from "@/lib/drivers/qemu/args";
import { cgroupName } from "@/lib/drivers/qemu/cgroup";
import { parseReadyLine } from "@/lib/drivers/qemu/glue";
import { bridgeName, hostKey, netnsName, nicPlans, tapName } from "@/lib/drivers/qemu/netns";
import { markerMismatches } from "@/lib/drivers/qemu/serial";

const dir = "/var/lib/portal/hosts/qemu-1/guests/db01";
const plan: QemuPlan = {
  name: "db01",
  dir,
  vcpus: 2,
  memoryMb: 2048,
  kernel: `${dir}/image/vmlinuz`,
  initrd: `${dir}/initrd.gz`,
  append: "console=ttyS0 quiet panic=-1 loglevel=6",
  disk: `${dir}/disk.qcow2`,
  nics: [
    { mac: "02:00:00:14:00:05", tap: "pt0a140005" },
    { mac: "02:00:00:1e:00:05", tap: null },
  ],
};

describe("QEMU command line", () => {
  it("is an argument vector with the flavor's memory and vCPUs, the overlay on virtio, one virtio NIC per address, QMP and serial sockets (boot log, console)", () => {
    const f = guestFiles(dir);
    expect(qemuArgv(plan)).toEqual([
      "qemu-system-x86_64",
      "-name", "guest=db01",
      "-machine", "q35,accel=tcg",
      "-m", "2048",
      "-smp", "2",
      "-kernel", `${dir}/image/vmlinuz`,
      "-initrd", `${dir}/initrd.gz`,
      "-append", "console=ttyS0 quiet panic=-1 loglevel=6",
      "-drive", `file=${dir}/disk.qcow2,if=virtio,format=qcow2,cache=writeback`,
      "-device", "virtio-rng-pci",
      "-netdev", "tap,id=n0,ifname=pt0a140005,script=no,downscript=no",
      "-device", "virtio-net-pci,netdev=n0,mac=02:00:00:14:00:05",
      "-netdev", "user,id=n1",
      "-device", "virtio-net-pci,netdev=n1,mac=02:00:00:1e:00:05",
      "-qmp", `unix:${f.qmp},server=on,wait=off`,
      "-chardev", `socket,id=ser0,path=${f.serialSock},server=on,wait=off,logfile=${f.serialLog}`,
      "-serial", "chardev:ser0",
      "-chardev", `socket,id=con0,path=${f.consoleSock},server=on,wait=off`,
      "-serial", "chardev:con0",
      "-display", "none",
      "-monitor", "none",
      "-no-reboot",
      "-daemonize",
      "-pidfile", f.pidfile,
    ]);
  });

  it("a migration target gets the same line plus -incoming (tcp or unix socket)", () => {
    expect(qemuArgv({ ...plan, incoming: "tcp:127.0.0.1:45100" }).slice(-2)).toEqual(["-incoming", "tcp:127.0.0.1:45100"]);
    expect(qemuArgv({ ...plan, incoming: `unix:${dir}/migrate.sock` }).slice(-2)).toEqual(["-incoming", `unix:${dir}/migrate.sock`]);
    expect(() => qemuArgv({ ...plan, incoming: "exec:rm -rf /" })).toThrow(/invalid migration address/);
  });

  it("refuses what could change QEMU's option parsing: commas or spaces in paths, bad MACs, tap names, sizes", () => {
    expect(() => qemuArgv({ ...plan, disk: "/tmp/a,file=/etc/shadow" })).toThrow(/unsafe disk path/);
    expect(() => qemuArgv({ ...plan, dir: "/tmp/x y" })).toThrow(/unsafe guest folder path/);
    expect(() => qemuArgv({ ...plan, kernel: "/tmp/../etc/vmlinuz" })).toThrow(/unsafe kernel path/);
    expect(() => qemuArgv({ ...plan, nics: [{ mac: "02:00:00:14:00:05,x=1", tap: null }] })).toThrow(/invalid MAC/);
    expect(() => qemuArgv({ ...plan, nics: [{ mac: "02:00:00:14:00:05", tap: "tap0,script=/x" }] })).toThrow(/invalid tap name/);
    expect(() => qemuArgv({ ...plan, name: "DB 01" })).toThrow(/invalid guest name/);
    expect(() => qemuArgv({ ...plan, memoryMb: 0 })).toThrow(/invalid memory/);
    expect(() => qemuArgv({ ...plan, vcpus: 1.5 })).toThrow(/invalid vCPU/);
  });
});

describe("host network names", () => {
  it("fit Linux's 15-character interface names and come from the IPs and CIDRs only", () => {
    expect(tapName("10.20.0.5")).toBe("pt0a140005");
    expect(bridgeName("10.20.0.0/24")).toBe("pb0a140000");
    expect(tapName("255.255.255.254").length).toBeLessThanOrEqual(15);
    expect(() => tapName("10.20.0.5; rm -rf /")).toThrow();
    const nics = nicPlans([{ ip: "10.30.0.9", mac: "02:00:00:1e:00:09", cidr: "10.30.0.0/24", gateway: "10.30.0.1" }]);
    expect(nics).toEqual([{ ip: "10.30.0.9", mac: "02:00:00:1e:00:09", cidr: "10.30.0.0/24", gateway: "10.30.0.1", tap: "pt0a1e0009", bridge: "pb0a1e0000" }]);
  });

  it("give each host its own namespace and cgroups, stable across restarts, apart for the same host name in another portal", () => {
    const a = { id: "6f1c1a52-0000-4000-8000-000000000001", name: "qemu-1", config: { workDir: "/srv/portal/hosts/qemu-1" } };
    const b = { id: "6f1c1a52-0000-4000-8000-000000000002", name: "qemu-1", config: { workDir: "/tmp/portal-e2e-3320/hosts/qemu-1" } };
    expect(netnsName(a)).toMatch(/^portal-qemu-1-[0-9a-f]{6}$/);
    expect(netnsName(a)).toBe(netnsName({ ...a, id: "another-row-same-folder" }));
    expect(netnsName(a)).not.toBe(netnsName(b));
    expect(cgroupName(hostKey(a), "db01")).toBe(`${hostKey(a)}-db01`);
    expect(() => cgroupName("qemu-1", "../../etc")).toThrow(/invalid cgroup name/);
  });
});

describe("readiness report", () => {
  const want = { hostname: "db01", nics: [{ mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24 }, { mac: "02:00:00:1e:00:05", ip: "10.30.0.5", prefix: 24 }] };

  it("agrees when the guest reports the portal's hostname, MACs and IPs", () => {
    const report = parseReadyLine("PORTAL-READY hostname=db01 uptime=3.16 disk=10737418240 nic=02:00:00:14:00:05,10.20.0.5/24 nic=02:00:00:1e:00:05,10.30.0.5/24")!;
    expect(markerMismatches(report, want)).toEqual([]);
  });

  it("holds a guest to its disk at /data and its SSH server when it reports them; an older image's line reports neither", () => {
    const nics = "nic=02:00:00:14:00:05,10.20.0.5/24 nic=02:00:00:1e:00:05,10.30.0.5/24";
    const fp = "SHA256:Gf0+p0hikyqy05eavf5zuUH7E+79DYo0sZHztmTwFI0";
    const up = parseReadyLine(`PORTAL-READY hostname=db01 uptime=3.2 disk=10737418240 data=10514354176 ssh=22 ssh-hostkey=${fp} ${nics}`)!;
    expect(up).toMatchObject({ dataBytes: 10514354176, ssh: { port: 22, hostKey: fp } });
    expect(markerMismatches(up, want)).toEqual([]);
    const down = parseReadyLine(`PORTAL-READY hostname=db01 uptime=13.2 disk=10737418240 data=0 ssh=down ssh-hostkey= ${nics}`)!;
    expect(down).toMatchObject({ dataBytes: 0, ssh: { port: null, hostKey: null } });
    expect(markerMismatches(down, want)).toEqual([
      "its disk is not mounted at /data, so nothing written there would be kept (see the boot log)",
      "its SSH server does not listen on port 22",
    ]);
    const older = parseReadyLine(`PORTAL-READY hostname=db01 uptime=3.2 disk=10737418240 ${nics}`)!;
    expect(older.dataBytes).toBeUndefined();
    expect(older.ssh).toBeUndefined();
    expect(markerMismatches(older, want)).toEqual([]);
  });

  it("names every difference: hostname, a missing NIC, a wrong address, an extra NIC", () => {
    const report = parseReadyLine("PORTAL-READY hostname=db02 uptime=3 disk=0 nic=02:00:00:14:00:05,10.20.0.6/24 nic=02:00:00:99:00:01,10.99.0.1/24")!;
    expect(markerMismatches(report, want)).toEqual([
      "hostname is db02, expected db01",
      "NIC 02:00:00:14:00:05 has 10.20.0.6/24, expected 10.20.0.5/24",
      "no NIC with MAC 02:00:00:1e:00:05 (guest has 02:00:00:14:00:05, 02:00:00:99:00:01)",
      "unexpected NIC 02:00:00:99:00:01",
    ]);
  });
});
