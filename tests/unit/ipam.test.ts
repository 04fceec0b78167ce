import { describe, expect, it } from "vitest";
import { formatIp, inCidr, parseCidr, parseIp } from "@/lib/net/ipv4";
import { nextFreeAddress, usableRange } from "@/lib/net/ipam";

describe("IPv4 arithmetic", () => {
  it("round-trips addresses, including the top of the space", () => {
    for (const ip of ["0.0.0.0", "10.20.0.5", "192.168.255.254", "255.255.255.255"]) {
      expect(formatIp(parseIp(ip))).toBe(ip);
    }
    expect(parseIp("10.20.0.5")).toBe(10 * 2 ** 24 + 20 * 2 ** 16 + 5);
  });

  it("refuses what is not an address", () => {
    for (const bad of ["10.20.0", "10.20.0.256", "10.20.0.05", "a.b.c.d", "10.20.0.5 ", ""]) {
      expect(() => parseIp(bad), bad).toThrow(/Not an IPv4 address/);
    }
  });

  it("parses CIDR blocks and refuses misaligned or out-of-range prefixes", () => {
    expect(parseCidr("10.30.0.0/24")).toEqual({ network: parseIp("10.30.0.0"), prefix: 24, size: 256 });
    expect(() => parseCidr("10.30.0.8/24")).toThrow(/not aligned/);
    expect(() => parseCidr("10.0.0.0/31")).toThrow(/between \/8 and \/30/);
    expect(() => parseCidr("10.0.0.0")).toThrow(/Not a CIDR block/);
    expect(inCidr("10.30.0.255", "10.30.0.0/24")).toBe(true);
    expect(inCidr("10.30.1.0", "10.30.0.0/24")).toBe(false);
  });
});

describe("next free address", () => {
  it("skips the network address and the gateway: the first guest of 10.20.0.0/24 gets .2", () => {
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", [])).toBe("10.20.0.2");
  });

  it("never hands out the broadcast address", () => {
    const taken = Array.from({ length: 252 }, (_, i) => `10.20.0.${i + 2}`); // .2 ... .253
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", taken)).toBe("10.20.0.254");
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", [...taken, "10.20.0.254"])).toBeNull();
  });

  it("skips a gateway placed at the top of the block", () => {
    expect(usableRange("10.40.0.0/29", "10.40.0.6")).toEqual({ first: parseIp("10.40.0.1"), last: parseIp("10.40.0.6"), gateway: parseIp("10.40.0.6") });
    const taken = ["10.40.0.1", "10.40.0.2", "10.40.0.3", "10.40.0.4", "10.40.0.5"];
    expect(nextFreeAddress("10.40.0.0/29", "10.40.0.6", taken)).toBeNull();
  });

  it("reports exhaustion of a /29 (five guest addresses beside the gateway) as no address", () => {
    const taken: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ip = nextFreeAddress("10.50.0.0/29", "10.50.0.1", taken);
      expect(ip).not.toBeNull();
      taken.push(ip!);
    }
    expect(taken).toEqual(["10.50.0.2", "10.50.0.3", "10.50.0.4", "10.50.0.5", "10.50.0.6"]);
    expect(nextFreeAddress("10.50.0.0/29", "10.50.0.1", taken)).toBeNull();
  });

  it("reuses a freed address before higher ones (lowest first)", () => {
    const taken = ["10.20.0.2", "10.20.0.3", "10.20.0.4"];
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", taken)).toBe("10.20.0.5");
    const afterFree = taken.filter((ip) => ip !== "10.20.0.3");
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", afterFree)).toBe("10.20.0.3");
  });

  it("ignores taken addresses from outside the block", () => {
    expect(nextFreeAddress("10.20.0.0/24", "10.20.0.1", ["10.30.0.2", "10.20.1.2"])).toBe("10.20.0.2");
  });
});
