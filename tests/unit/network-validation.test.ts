import { describe, expect, it } from "vitest";
import { networks } from "@/lib/db/schema";
import { fieldErrors } from "@/lib/validation/fields";
import { networkInput, networkPurposes } from "@/lib/net/input";

const good = { slug: "lab-net", name: "Lab network", purpose: "production", cidr: "10.40.0.0/24", gateway: "10.40.0.1", bridge: "xenbr2" };

function errorsOf(input: Record<string, unknown>) {
  const r = networkInput.safeParse(input);
  return r.success ? {} : fieldErrors(r.error);
}

describe("a new network", () => {
  it("accepts a well-formed network, trims, and defaults the MAC prefix", () => {
    const r = networkInput.parse({ ...good, name: "  Lab network ", cidr: " 10.40.0.0/24" });
    expect(r).toEqual({ ...good, macPrefix: "02:00:00" });
  });

  it("keeps a given MAC prefix in lowercase and refuses one that is not locally administered unicast", () => {
    expect(networkInput.parse({ ...good, macPrefix: "06:AB:CD" }).macPrefix).toBe("06:ab:cd");
    expect(errorsOf({ ...good, macPrefix: "00:16:3e" }).macPrefix?.[0]).toMatch(/locally administered/);
    expect(errorsOf({ ...good, macPrefix: "03:00:00" }).macPrefix?.[0]).toMatch(/unicast/);
    expect(errorsOf({ ...good, macPrefix: "02:00" }).macPrefix?.[0]).toMatch(/three hex octets/);
  });

  it("has the purposes of the networks table", () => {
    expect([...networkPurposes]).toEqual(networks.purpose.enumValues);
  });

  it.each([
    ["10.40.0.5/24", /not the network address.*use 10\.40\.0\.0\/24/],
    ["10.40.1.0/23", /use 10\.40\.0\.0\/23/],
    ["10.0.0.0/8", /between \/16 and \/30/],
    ["10.40.0.0/31", /between \/16 and \/30/],
    ["10.40.0.0", /like 10\.40\.0\.0\/24/],
    ["10.40.0.256/24", /not an IPv4 address/],
    ["", /like 10\.40\.0\.0\/24/],
  ])("refuses CIDR %s with a message that says why", (cidr, message) => {
    const errors = errorsOf({ ...good, cidr });
    expect(errors.cidr?.[0]).toMatch(message);
    expect(errors.gateway).toBeUndefined();
  });

  it("accepts /16 and /30 blocks", () => {
    expect(networkInput.safeParse({ ...good, cidr: "10.41.0.0/16", gateway: "10.41.255.254" }).success).toBe(true);
    expect(networkInput.safeParse({ ...good, cidr: "10.42.0.4/30", gateway: "10.42.0.5" }).success).toBe(true);
  });

  it.each([
    ["10.50.0.1", /must be inside 10\.40\.0\.0\/24/],
    ["10.40.0.0", /network address/],
    ["10.40.0.255", /broadcast address/],
    ["10.40.0", /IPv4 address/],
  ])("refuses gateway %s", (gateway, message) => {
    expect(errorsOf({ ...good, gateway }).gateway?.[0]).toMatch(message);
  });

  it("checks the gateway against the block while other fields are still empty (as you type)", () => {
    const errors = errorsOf({ slug: "", name: "", purpose: "production", cidr: "10.40.0.0/24", gateway: "10.50.0.1", bridge: "" });
    expect(Object.keys(errors).sort()).toEqual(["bridge", "gateway", "name", "slug"]);
  });

  it.each(["Lab", "a", "-lab", "lab-", "lab_net", "x".repeat(41)])("refuses slug %j", (slug) => {
    expect(errorsOf({ ...good, slug }).slug).toBeDefined();
  });

  it.each(["br0", "xenbr1", "eth0.100", "bond0_vlan-1", "a"])("accepts bridge %s", (bridge) => {
    expect(errorsOf({ ...good, bridge })).toEqual({});
  });

  it.each(["0br", "br 0", "br0;reboot", "a234567890123456", "", "$(id)"])("refuses bridge %j", (bridge) => {
    expect(errorsOf({ ...good, bridge }).bridge?.[0]).toMatch(/Bridge or device/);
  });

  it("refuses an unknown purpose and unknown fields", () => {
    expect(errorsOf({ ...good, purpose: "storage" }).purpose?.[0]).toBe("Purpose is service or production");
    expect(errorsOf({ ...good, vlan: 12 })).toEqual({ vlan: ["Unknown field"] });
  });
});
