import { describe, expect, it } from "vitest";
import { macForIp, validateMacPrefix } from "@/lib/net/mac";

describe("MAC rule: 0x00FFFFFF & IP | 0x02000000", () => {
  it("derives 02:00:00:14:00:05 from 10.20.0.5", () => {
    expect(macForIp("10.20.0.5")).toBe("02:00:00:14:00:05");
  });

  it("keeps the low 24 bits of the address, two hex digits per octet", () => {
    expect(macForIp("10.30.0.2")).toBe("02:00:00:1e:00:02");
    expect(macForIp("192.168.10.255")).toBe("02:00:00:a8:0a:ff");
    // The first octet of the address does not matter: only 24 bits fit behind the prefix.
    expect(macForIp("172.16.1.2")).toBe(macForIp("10.16.1.2"));
  });

  it("uses the network's own prefix, written in lowercase", () => {
    expect(macForIp("10.20.0.5", "0A:BC:DE")).toBe("0a:bc:de:14:00:05");
    expect(macForIp("10.20.0.5", "06:00:00")).toBe("06:00:00:14:00:05");
  });

  it("accepts locally administered unicast prefixes only", () => {
    expect(validateMacPrefix("02:00:00")).toBeNull();
    expect(validateMacPrefix("fe:12:34")).toBeNull();
    expect(validateMacPrefix("00:16:3e")).toMatch(/locally administered/); // Xen's global OUI
    expect(validateMacPrefix("03:00:00")).toMatch(/unicast/);
    expect(validateMacPrefix("02:00")).toMatch(/three hex octets/);
    expect(validateMacPrefix("02-00-00")).toMatch(/three hex octets/);
    expect(validateMacPrefix("02:00:0g")).toMatch(/three hex octets/);
  });

  it("refuses to derive a MAC behind a bad prefix or from a bad address", () => {
    expect(() => macForIp("10.20.0.5", "00:16:3e")).toThrow(/locally administered/);
    expect(() => macForIp("10.20.0.300")).toThrow(/Not an IPv4 address/);
  });
});
