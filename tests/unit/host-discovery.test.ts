/**
 * Capability discovery reads what the hosts' own tools print. Xen and Solaris hosts cannot run
 * here: these samples follow the output formats of xl info, vgs/lvs with the options the
 * portal passes, zoneadm list -cv, zfs list -H -p, psrinfo and prtconf as documented.
 */
import { describe, expect, it } from "vitest";
import {
  parseDfPk,
  parseLvs,
  parseMeminfo,
  parsePrtconfMemoryMb,
  parsePsrinfo,
  parseVgs,
  parseXlInfo,
  parseZfsList,
  parseZoneadmList,
} from "@/lib/hosts/discovery";

const xlInfo = `host                   : xen-01
release                : 6.1.0-28-amd64
version                : #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)
machine                : x86_64
nr_cpus                : 16
max_cpu_id             : 15
nr_nodes               : 1
cores_per_socket       : 8
threads_per_core       : 2
cpu_mhz                : 2394.374
virt_caps              : pv hvm hvm_directio pv_directio hap shadow
total_memory           : 65442
free_memory            : 40210
sharing_freed_memory   : 0
free_cpus              : 0
xen_major              : 4
xen_minor              : 17
xen_extra              : .3
xen_version            : 4.17.3
xen_caps               : xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64
xen_commandline        : placeholder dom0_mem=4096M,max:4096M
cc_compiler            : x86_64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0
`;

describe("Xen", () => {
  it("reads CPUs, memory and the version from xl info", () => {
    expect(parseXlInfo(xlInfo)).toEqual({ totalMemoryMb: 65442, freeMemoryMb: 40210, cpus: 16, version: "Xen 4.17.3" });
  });

  it("says what xl info did not report", () => {
    expect(() => parseXlInfo("host : x\nnr_cpus : 4\n")).toThrow(/did not report total_memory/);
  });

  it("reads volume groups and logical volumes in bytes", () => {
    expect(parseVgs("  vg0|1000203091968|536870912000\n  vgdata|2000398934016|0\n")).toEqual([
      { name: "vg0", sizeBytes: 1000203091968, freeBytes: 536870912000 },
      { name: "vgdata", sizeBytes: 2000398934016, freeBytes: 0 },
    ]);
    expect(parseLvs("  golden-rhel|vg0|21474836480|\n  env-0005|vg0|21474836480|golden-rhel\n")).toEqual([
      { name: "golden-rhel", vg: "vg0", sizeBytes: 21474836480, origin: null },
      { name: "env-0005", vg: "vg0", sizeBytes: 21474836480, origin: "golden-rhel" },
    ]);
    expect(parseVgs("")).toEqual([]);
    expect(() => parseVgs("  vg0 1000 200\n")).toThrow(/unexpected vgs line/);
  });
});

describe("Solaris zones", () => {
  it("reads zoneadm list -cv", () => {
    const out = `  ID NAME             STATUS     PATH                           BRAND    IP
   0 global           running    /                              native   shared
   3 web1             running    /zones/web1                    native   shared
   - golden-s10       installed  /zones/golden-s10              native   shared
   - db1              configured /zones/db1                     native   shared
`;
    expect(parseZoneadmList(out)).toEqual([
      { id: "0", name: "global", status: "running", path: "/", brand: "native", ip: "shared" },
      { id: "3", name: "web1", status: "running", path: "/zones/web1", brand: "native", ip: "shared" },
      { id: "-", name: "golden-s10", status: "installed", path: "/zones/golden-s10", brand: "native", ip: "shared" },
      { id: "-", name: "db1", status: "configured", path: "/zones/db1", brand: "native", ip: "shared" },
    ]);
    expect(() => parseZoneadmList("global:running\n")).toThrow(/no header/);
  });

  it("reads zfs list -H -p (tab-separated bytes)", () => {
    const out = "rpool\t53687091200\t214748364800\t/rpool\nrpool/zones\t10737418240\t214748364800\t/zones\nrpool/zones/web1\t2147483648\t214748364800\t/zones/web1\n";
    expect(parseZfsList(out)[1]).toEqual({ name: "rpool/zones", usedBytes: 10737418240, availBytes: 214748364800, mountpoint: "/zones" });
    expect(() => parseZfsList("rpool 10 20 /rpool\n")).toThrow(/unexpected zfs list line/);
  });

  it("counts processors and reads memory", () => {
    expect(parsePsrinfo("0       on-line   since 11/20/2026 09:12:44\n1       on-line   since 11/20/2026 09:12:47\n2       off-line  since 11/21/2026 10:00:00\n")).toBe(3);
    expect(() => parsePsrinfo("")).toThrow(/no processors/);
    expect(parsePrtconfMemoryMb("System Configuration:  Sun Microsystems  i86pc\nMemory size: 16384 Megabytes\nSystem Peripherals (Software Nodes):\n")).toBe(16384);
    expect(parsePrtconfMemoryMb("Memory size: 64 Gigabytes\n")).toBe(65536);
    expect(() => parsePrtconfMemoryMb("System Configuration: x\n")).toThrow(/Memory size/);
  });
});

describe("QEMU hosts (Linux)", () => {
  it("reads /proc/meminfo and df -Pk", () => {
    expect(parseMeminfo("MemTotal:       16318412 kB\nMemFree:         1234567 kB\nMemAvailable:    8159206 kB\n")).toEqual({ totalMb: 15935, availableMb: 7967 });
    expect(parseDfPk("Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/sda1        102687672  41943040  55484928      44% /\n")).toEqual({
      sizeBytes: 102687672 * 1024,
      availBytes: 55484928 * 1024,
      mount: "/",
    });
  });
});
