/**
 * What hosts print, read into usage counters, and counters into rates: the Linux files a QEMU
 * host gives (/proc/stat, /proc/meminfo, df, /proc/net/dev, /proc/<pid>/stat, ip -j -s link),
 * Solaris prstat -Z, and the rate rules (CPU % of the vCPUs, a counter that went back is no rate).
 */
import { describe, expect, it } from "vitest";
import { parseDf, parseMeminfo, parseNetDev, parseProcStat, parseSize } from "@/lib/drivers/usage";
import { parseIpLinkStats, parsePidStat } from "@/lib/drivers/qemu/usage";
import { parseXlList } from "@/lib/drivers/xen/usage";
import { parsePrstatZones } from "@/lib/drivers/zones/usage";
import { cpuPercent, guestPoint } from "@/lib/usage/rates";

describe("reading what hosts print", () => {
  it("/proc/stat: busy seconds of all CPUs (idle and iowait left out) and the CPU count", () => {
    const text = "cpu  1000 50 300 9000 200 10 20 5 0 0\ncpu0 500 25 150 4500 100 5 10 2 0 0\ncpu1 500 25 150 4500 100 5 10 3 0 0\nintr 1\n";
    expect(parseProcStat(text)).toEqual({ cpuSeconds: (1000 + 50 + 300 + 10 + 20 + 5) / 100, cpus: 2 });
  });

  it("/proc/meminfo, df -P -B1 and /proc/net/dev", () => {
    expect(parseMeminfo("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n")).toEqual({ usedBytes: 10_000_000 * 1024, totalBytes: 16_000_000 * 1024 });
    expect(parseDf("Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 100000 40000 60000 40% /\n")).toEqual({ usedBytes: 40000, totalBytes: 100000 });
    const netdev = "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n  eth1: 24 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0\n";
    expect(parseNetDev(netdev)).toEqual({ rxBytes: 1024, txBytes: 506 });
  });

  it("a QEMU process's CPU time, whatever its name holds, and a tap's counters", () => {
    const stat = "4242 (qemu-system-x86 (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 566 0 0 20 0 3 0 100 0 0";
    expect(parsePidStat(stat)).toBe(18);
    expect(parseIpLinkStats('[{"ifname":"pt0a","stats64":{"rx":{"bytes":300,"packets":3},"tx":{"bytes":700,"packets":7}}}]')).toEqual({ rx: 300, tx: 700 });
    expect(parseIpLinkStats("not json")).toBeNull();
  });

  it("xl list and prstat -Z rows; Solaris sizes", () => {
    expect(parseXlList("Name                                        ID   Mem VCPUs\tState\tTime(s)\nDomain-0                                     0  1024     8     r-----    4521.3\nweb1                                         4   512     2     -b----      12.5\n")).toEqual([
      { name: "Domain-0", id: 0, memoryMb: 1024, vcpus: 8, cpuSeconds: 4521.3 },
      { name: "web1", id: 4, memoryMb: 512, vcpus: 2, cpuSeconds: 12.5 },
    ]);
    const prstat = [
      "   PID USERNAME  SIZE   RSS STATE  PRI NICE      TIME  CPU PROCESS/NLWP",
      "   612 root     7840K 5120K sleep   59    0   0:00:03 0.0% nscd/27",
      "ZONEID    NPROC  SIZE   RSS MEMORY      TIME  CPU ZONE",
      "     0       41  180M  210M   1.3%   1:02:03 0.4% global",
      "     3       23  100M  1.5G   3.1%   0:00:42  20% db1",
      "Total: 64 processes, 180 lwps, load averages: 0.41, 0.38, 0.35",
    ].join("\n");
    const zones = parsePrstatZones(prstat);
    expect(zones.get("global")).toEqual({ rssBytes: 210 * 1024 ** 2, cpuSeconds: 3723 });
    expect(zones.get("db1")).toEqual({ rssBytes: 1.5 * 1024 ** 3, cpuSeconds: 42 });
    expect(zones.size).toBe(2);
    expect(parseSize("512K")).toBe(512 * 1024);
    expect(parseSize("-")).toBeNull();
  });
});

describe("rates from two readings", () => {
  const t0 = new Date("2026-12-06T10:00:00Z");
  const t1 = new Date("2026-12-06T10:01:00Z");
  it("CPU % is CPU seconds over wall seconds times vCPUs, clamped to 0-100; none without a previous reading", () => {
    const prev = { at: t0, cpuSeconds: 100, rxBytesTotal: 1000, txBytesTotal: 0 };
    expect(cpuPercent(130, prev, t1, 1)).toBeCloseTo(50);
    expect(cpuPercent(130, prev, t1, 2)).toBeCloseTo(25);
    expect(cpuPercent(400, prev, t1, 1)).toBe(100);
    expect(cpuPercent(130, null, t1, 1)).toBeNull();
  });

  it("a counter lower than before (a guest restarted) gives no rate, not a negative one", () => {
    const point = guestPoint({ cpuSeconds: 5, vcpus: 1, memoryBytes: 1, diskBytes: 2, rxBytes: 100, txBytes: 6000 }, { at: t0, cpuSeconds: 100, rxBytesTotal: 1000, txBytesTotal: 0 }, t1);
    expect(point).toEqual({ cpuPercent: null, memoryBytes: 1, diskBytes: 2, rxBytesPerSec: null, txBytesPerSec: 100 });
  });
});
