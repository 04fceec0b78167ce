/**
 * The pure parts of service IPs and separated networks: what the API accepts, the guest's glue
 * lines, the rules that keep networks apart (nftables, IP Filter), and how the downtime of a
 * move is read from the host's pings.
 */
import { describe, expect, it } from "vitest";
import { networkRouteInput, serviceIpAttachInput, serviceIpInput } from "@/lib/net/service-ip-input";
import { glueConfig } from "@/lib/drivers/qemu/glue";
import { isolationRuleset } from "@/lib/drivers/network-policy";
import { bridgeName } from "@/lib/drivers/qemu/netns";
import { ipfRules } from "@/lib/drivers/zones/service-ips";
import { longestSilenceMs } from "@/lib/drivers/qemu/service-ips";
import { initScript } from "@/lib/drivers/images/recipe";
import { goldenNetworkPolicy } from "../fixtures/plan-orders";

const fieldsOf = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; code: string; keys?: string[] }[] } }) =>
  r.success ? [] : [...new Set(r.error!.issues.flatMap((i) => (i.code === "unrecognized_keys" ? i.keys! : [String(i.path[0] ?? "_")])))];

describe("service IP input", () => {
  it("takes a network, a name like a hostname and an optional group", () => {
    expect(serviceIpInput.parse({ network: "service", name: " web-front " })).toEqual({ network: "service", name: "web-front" });
    expect(serviceIpInput.parse({ network: "service", name: "db2", group: "physics" }).group).toBe("physics");
  });

  it("refuses odd names, unknown keys and missing fields, naming the field", () => {
    const cases: [unknown, string[]][] = [
      [{ network: "service", name: "Web" }, ["name"]],
      [{ network: "service", name: "-web" }, ["name"]],
      [{ network: "service", name: "web-" }, ["name"]],
      [{ network: "service", name: "we b" }, ["name"]],
      [{ network: "service", name: "web\u0000x" }, ["name"]],
      [{ network: "service", name: "a".repeat(41) }, ["name"]],
      [{ network: "", name: "web" }, ["network"]],
      [{ network: "service", name: "web", ip: "10.20.0.9" }, ["ip"]],
      // As JSON.parse reads a body: __proto__ is a key like any other.
      [JSON.parse('{"network":"service","name":"web","__proto__":{"x":1}}'), ["__proto__"]],
      [{ network: "service", name: "web", constructor: "x" }, ["constructor"]],
      [{ name: "web" }, ["network"]],
    ];
    for (const [input, fields] of cases) expect(fieldsOf(serviceIpInput.safeParse(input)), JSON.stringify(input)).toEqual(fields);
  });

  it("attach names one environment; a route names one other network", () => {
    expect(serviceIpAttachInput.parse({ environment: " web01 " })).toEqual({ environment: "web01" });
    expect(fieldsOf(serviceIpAttachInput.safeParse({}))).toEqual(["environment"]);
    expect(fieldsOf(serviceIpAttachInput.safeParse({ environment: "a", force: true }))).toEqual(["force"]);
    expect(fieldsOf(networkRouteInput.safeParse({ network: "test", both: true }))).toEqual(["both"]);
  });
});

describe("the guest's glue", () => {
  const base = { hostname: "web01", nics: [{ mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24, gateway: null, purpose: "service" }], authorizedKeys: null, motd: "" };
  it("names the NIC a service IP rides on by its MAC", () => {
    expect(glueConfig({ ...base, serviceIps: [{ ip: "10.20.0.50", mac: "02:00:00:14:00:05" }, "10.20.0.51"] })).toBe(
      "hostname web01\nnic 02:00:00:14:00:05 10.20.0.5/24 -\nservice-ip 10.20.0.50 02:00:00:14:00:05\nservice-ip 10.20.0.51\n",
    );
    expect(() => glueConfig({ ...base, serviceIps: [{ ip: "10.20.0.50", mac: "02:00:00:14:00:05; reboot" }] })).toThrow(/invalid MAC/);
  });

  it("the guest's init answers service-ip lines on its console, splitting them without globbing", () => {
    expect(initScript).toContain('"service-ip "*) set -f; set -- ${line#service-ip }; set +f; service_ip "$@" ;;');
    expect(initScript).toContain('echo "PORTAL-SERVICE-IP $tag ok added $sip on $dev"');
  });
});

describe("networks kept apart", () => {
  it("nftables: drop between networks, accept within one and between the routed pairs both ways", () => {
    const rules = isolationRuleset(goldenNetworkPolicy, (n) => bridgeName(n.cidr));
    expect(rules).toContain("type filter hook forward priority filter; policy drop;");
    expect(rules).toContain('iifname "pb0a140000" oifname "pb0a140000" accept comment "within service"');
    expect(rules).toContain('iifname "pb0a1e0000" oifname "pb0a280000" accept comment "routed production to test"');
    expect(rules).toContain('iifname "pb0a280000" oifname "pb0a1e0000" accept comment "routed test to production"');
    expect(rules.match(/accept/g)).toHaveLength(5);
    expect(isolationRuleset({ ...goldenNetworkPolicy, routes: [] }, (n) => n.bridge).match(/comment "routed/g)).toBeNull();
  });

  it("refuses a bridge or slug that could change the rules file", () => {
    expect(() => isolationRuleset({ networks: [{ slug: "x", cidr: "10.0.0.0/24", bridge: 'br0" accept' }], routes: [] }, (n) => n.bridge)).toThrow(/invalid bridge name/);
    expect(() => isolationRuleset({ networks: [{ slug: "x y", cidr: "10.0.0.0/24", bridge: "br0" }], routes: [] }, (n) => n.bridge)).toThrow(/invalid network slug/);
  });

  it("IP Filter: every pair that is not routed is blocked both ways", () => {
    const rules = ipfRules(goldenNetworkPolicy).split("\n").filter((l) => l.startsWith("block"));
    expect(rules).toEqual([
      "block in quick from 10.30.0.0/24 to 10.20.0.0/24",
      "block in quick from 10.20.0.0/24 to 10.30.0.0/24",
      "block in quick from 10.20.0.0/24 to 10.40.0.0/24",
      "block in quick from 10.40.0.0/24 to 10.20.0.0/24",
    ]);
  });
});

describe("the downtime of a move, from the host's pings", () => {
  it("is the longest run of unanswered probes, counted from the first probe", () => {
    expect(longestSilenceMs([0, 1, 2, 3, 9, 10, 11], 20)).toBe(120);
    expect(longestSilenceMs([0, 1, 2], 20)).toBe(20);
    // Nothing answered at first (the address was elsewhere): from the start.
    expect(longestSilenceMs([5, 6], 20)).toBe(100);
    expect(longestSilenceMs([], 20)).toBeNull();
    // It stopped answering: the silence at the end counts.
    expect(longestSilenceMs([0, 1, 2], 20, 50)).toBe(960);
    expect(longestSilenceMs([0, 1, 2, 3, 9, 10], 20, 11)).toBe(120);
  });
});
