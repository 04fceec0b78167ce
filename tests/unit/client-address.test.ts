import { describe, expect, it } from "vitest";
import { clientAddress, limitKeyFor, normalizeAddress, PEER_HEADER } from "@/lib/http/client-address";

const from = (peer: string | null, xff?: string) => ({ ...(peer !== null ? { [PEER_HEADER]: peer } : {}), ...(xff ? { "x-forwarded-for": xff } : {}) });

describe("the client's address", () => {
  it("is the connection's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress(from("203.0.113.5"), [])).toBe("203.0.113.5");
    expect(clientAddress(from("203.0.113.5", "198.51.100.1"), [])).toBe("203.0.113.5");
    expect(clientAddress(from("::ffff:203.0.113.5", "198.51.100.1"), [])).toBe("203.0.113.5");
    expect(clientAddress(new Headers(from("2001:db8::1", "198.51.100.1")), [])).toBe("2001:db8::1");
  });

  it("is unknown when the request did not come through the portal's server", () => {
    expect(clientAddress(from(null, "198.51.100.1"), [])).toBeNull();
    expect(clientAddress(from(null, "198.51.100.1"), ["127.0.0.1"])).toBeNull();
    expect(clientAddress(from("not an address"), [])).toBeNull();
    expect(clientAddress(undefined, [])).toBeNull();
  });

  it("behind a trusted proxy, is the address the proxy saw; entries the client wrote are not believed", () => {
    const proxies = ["127.0.0.1", "10.0.0.0/8"];
    expect(clientAddress(from("127.0.0.1", "203.0.113.5"), proxies)).toBe("203.0.113.5");
    // The client sent "X-Forwarded-For: 192.0.2.66"; nginx appended the real peer.
    expect(clientAddress(from("127.0.0.1", "192.0.2.66, 203.0.113.5"), proxies)).toBe("203.0.113.5");
    // Two trusted hops (a load balancer, then nginx).
    expect(clientAddress(from("127.0.0.1", "192.0.2.66, 203.0.113.5, 10.1.2.3"), proxies)).toBe("203.0.113.5");
    // A peer that is no trusted proxy is the client, even if it sends the header.
    expect(clientAddress(from("198.51.100.7", "127.0.0.1"), proxies)).toBe("198.51.100.7");
    // Header lists over several lines are joined; a port on an entry is dropped.
    expect(clientAddress({ [PEER_HEADER]: "127.0.0.1", "x-forwarded-for": ["192.0.2.66", "203.0.113.5:51000"] }, proxies)).toBe("203.0.113.5");
    // The trusted proxy itself, when it reports nothing or nonsense.
    expect(clientAddress(from("127.0.0.1"), proxies)).toBe("127.0.0.1");
    expect(clientAddress(from("127.0.0.1", "junk"), proxies)).toBe("127.0.0.1");
  });

  it("trusts IPv6 proxies by range too", () => {
    expect(clientAddress(from("::1", "2001:db8:1::5"), ["::1"])).toBe("2001:db8:1::5");
    expect(clientAddress(from("fd00::2", "[2001:db8::9]:443"), ["fd00::/8"])).toBe("2001:db8::9");
  });
});

describe("addresses as written by sockets and proxies", () => {
  it("are made comparable", () => {
    expect(normalizeAddress(" ::FFFF:192.0.2.1 ")).toBe("192.0.2.1");
    expect(normalizeAddress("192.0.2.1:8080")).toBe("192.0.2.1");
    expect(normalizeAddress("[2001:DB8::1]:80")).toBe("2001:db8::1");
    expect(normalizeAddress("unknown")).toBeNull();
    expect(normalizeAddress("")).toBeNull();
  });
});

describe("the per-address limit's key", () => {
  it("is the IPv4 address, or the IPv6 /64 a host can pick addresses from", () => {
    expect(limitKeyFor("203.0.113.5")).toBe("203.0.113.5");
    expect(limitKeyFor("2001:db8:aa:bb:1:2:3:4")).toBe("2001:db8:aa:bb::/64");
    expect(limitKeyFor("2001:db8:aa:bb::99")).toBe(limitKeyFor("2001:db8:aa:bb:ffff::1"));
    expect(limitKeyFor("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKeyFor("::1")).toBe("0:0:0:0::/64");
    expect(limitKeyFor("2001:db8:aa:bc::1")).not.toBe(limitKeyFor("2001:db8:aa:bb::1"));
  });
});
