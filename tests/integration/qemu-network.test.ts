/**
 * The host side of guest networking with real iproute2 (root, as in CI): a namespace per
 * host, a bridge per network with its gateway, a tap per NIC; guests of one host configure
 * their networks at the same time without tripping over each other; removal leaves the
 * bridges for the other guests.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ensureGuestNetwork, nicPlans, removeGuestTaps, removeNetns } from "@/lib/drivers/qemu/netns";
import { LocalTransport } from "@/lib/drivers/transport/local";

const t = new LocalTransport();
const netns = `portal-nt-${randomBytes(3).toString("hex")}`;

afterAll(async () => {
  await removeNetns(t, netns).catch(() => {});
});

const links = () => execFileSync("ip", ["-n", netns, "-o", "link", "show"]).toString();
const addrs = (dev: string) => execFileSync("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", dev]).toString();

describe("host networking for QEMU guests", () => {
  it("two guests set up at once share the namespace and bridges, each with its own taps", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
    const guest = (n: number) =>
      nicPlans([
        { ip: `10.20.0.${n}`, mac: `02:00:00:14:00:0${n}`, cidr: "10.20.0.0/24", gateway: "10.20.0.1" },
        { ip: `10.30.0.${n}`, mac: `02:00:00:1e:00:0${n}`, cidr: "10.30.0.0/24", gateway: "10.30.0.1" },
      ]);
    const [a, b] = await Promise.all([ensureGuestNetwork(t, netns, guest(5)), ensureGuestNetwork(t, netns, guest(6))]);
    expect([...a, ...b].filter((l) => l.startsWith("network namespace")).length).toBe(1);
    for (const tap of ["pt0a140005", "pt0a1e0005", "pt0a140006", "pt0a1e0006"]) expect(links()).toMatch(new RegExp(`${tap}.*master pb0a1[4e]0000`));
    expect(addrs("pb0a140000")).toContain("10.20.0.1/24");
    expect(addrs("pb0a1e0000")).toContain("10.30.0.1/24");
    expect(addrs("pb0a140000").match(/inet /g)).toHaveLength(1);

    // Again: nothing new is created.
    expect(await ensureGuestNetwork(t, netns, guest(5))).toEqual(["tap pt0a140005 for 10.20.0.5 already exists", "tap pt0a1e0005 for 10.30.0.5 already exists"]);

    expect(await removeGuestTaps(t, netns, guest(5).map((n) => n.tap))).toEqual(["pt0a140005", "pt0a1e0005"]);
    expect(links()).not.toContain("pt0a140005");
    expect(links()).toContain("pt0a140006");
    expect(links()).toContain("pb0a140000");
    expect(await removeGuestTaps(t, netns, guest(5).map((n) => n.tap))).toEqual([]);
  });
});
