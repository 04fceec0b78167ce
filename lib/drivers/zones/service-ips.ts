/**
 * Service IPs and separated networks on a Solaris 10 global zone, as command plans. NOT run on
 * a real Solaris host: written from ifconfig(1M) (`addif ... zone ... up`, `removeif`),
 * zonecfg(1M) and ipf(1M)/ipf(4), tested against reviewed golden files and the host emulators
 * in tests/emulators/.
 *
 * Zones here are shared-IP: the global zone owns the NICs, and a zone's address is a logical
 * interface the global zone gives it. A service IP is one more: `ifconfig <nic> addif IP/32
 * zone Z up` while the zone runs (bringing it up sends the gratuitous ARP, as Solaris does for
 * every address it brings up), and a `net` resource in the zone's configuration so its next
 * boot has it; detach is `ifconfig <nic> removeif IP` and `remove net address=IP/32`.
 *
 * Networks apart: shared-IP zones talk through the global zone's one IP stack, so IP Filter
 * decides, with `set intercept_loopback true` so traffic between zones of this host is
 * filtered too (Solaris 10 8/07 and later, check): every pair of networks not routed is blocked
 * both ways.
 */
import { routedPairs } from "../network-policy";
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import { StepError, type DeploySpec, type NetworkPolicy, type ServiceIpRef } from "../types";
import type { ZonesHostConfig } from "./config";
import { physicalOf } from "./plan";

/** The global zone's NIC that carries the zone's address on the service IP's network. */
export function zoneNicFor(spec: DeploySpec, cfg: ZonesHostConfig, sip: ServiceIpRef): string {
  const a = spec.addresses.find((x) => x.network === sip.network);
  if (!a) throw new StepError(`${spec.hostname} has no address on network ${sip.network}, so service IP ${sip.ip} cannot ride on it`);
  return physicalOf(a, cfg);
}

function cfgFile(spec: DeploySpec, cfg: ZonesHostConfig, sip: ServiceIpRef) {
  return `${cfg.stageDir}/${spec.hostname}.service-ip-${sip.ip.replace(/\./g, "-")}.zonecfg`;
}

/** Gives the running zone the service IP, then its configuration (the next boot keeps it). */
export function zoneServiceIpAttachStep(spec: DeploySpec, cfg: ZonesHostConfig, sip: ServiceIpRef): PlanStep {
  assertSafeSpec({ ...spec, serviceIps: [...(spec.serviceIps ?? []), sip] });
  const nic = zoneNicFor(spec, cfg, sip);
  const file = cfgFile(spec, cfg, sip);
  return {
    step: "attach_ip",
    description: `Give zone ${spec.hostname} service IP ${sip.ip} on ${nic} (network ${sip.network})`,
    actions: [
      run(["ifconfig", nic, "addif", `${sip.ip}/32`, "zone", spec.hostname, "up"], `A logical interface of ${nic} for the zone; up sends the gratuitous ARP`, {
        alreadyDone: { when: /already exists|File exists/, advice: `If another zone holds ${sip.ip}, remove it there (ifconfig ${nic} removeif ${sip.ip})`, note: `${sip.ip} is up already` },
      }),
      run(["mkdir", "-p", cfg.stageDir], "Directory for the command file"),
      write(file, ["add net", `set address=${sip.ip}/32`, `set physical=${nic}`, "end", "commit", ""].join("\n"), 0o600, "zonecfg commands: one more net"),
      run(["zonecfg", "-z", spec.hostname, "-f", file], "The zone's configuration keeps it for the next boot", {
        alreadyDone: { when: /already exists/, advice: "", note: `the zone's configuration has ${sip.ip} already` },
      }),
      run(["rm", "-f", file], "Remove the command file"),
    ],
  };
}

/** Takes the service IP off the zone (running or halted) and out of its configuration. */
export function zoneServiceIpDetachStep(spec: DeploySpec, cfg: ZonesHostConfig, sip: ServiceIpRef): PlanStep {
  assertSafeSpec({ ...spec, serviceIps: [...(spec.serviceIps ?? []), sip] });
  const nic = zoneNicFor(spec, cfg, sip);
  const file = cfgFile(spec, cfg, sip);
  return {
    step: "detach_ip",
    description: `Take service IP ${sip.ip} from zone ${spec.hostname}`,
    actions: [
      run(["ifconfig", nic, "removeif", sip.ip], `Remove the zone's logical interface with ${sip.ip}`, {
        alreadyDone: { when: /Cannot assign requested address|could not remove|No such/, advice: "", note: `${sip.ip} is not up on ${nic}` },
      }),
      run(["mkdir", "-p", cfg.stageDir], "Directory for the command file"),
      write(file, [`remove net address=${sip.ip}/32`, "commit", ""].join("\n"), 0o600, "zonecfg commands: one net less"),
      run(["zonecfg", "-z", spec.hostname, "-f", file], "The zone's next boot does without it", {
        alreadyDone: { when: /No such net resource/, advice: "", note: `the zone's configuration does not have ${sip.ip}` },
      }),
      run(["rm", "-f", file], "Remove the command file"),
    ],
  };
}

/** ipf.conf(4) rules: every pair of networks not routed is blocked both ways, also between zones of this host. */
export function ipfRules(policy: NetworkPolicy): string {
  const routed = new Set(routedPairs(policy).flatMap(([a, b]) => [`${a} ${b}`, `${b} ${a}`]));
  const nets = [...policy.networks].sort((a, b) => a.slug.localeCompare(b.slug));
  const lines = ["# written by the environment portal: networks are kept apart but for the routed pairs", "set intercept_loopback true;"];
  for (const from of nets) {
    for (const to of nets) {
      if (from.slug === to.slug || routed.has(`${from.slug} ${to.slug}`)) continue;
      lines.push(`block in quick from ${from.cidr} to ${to.cidr}`);
    }
  }
  lines.push("");
  return lines.join("\n");
}

/** Networks kept apart in the global zone: IP Filter's rules replaced and loaded. */
export function zoneNetworkPolicyStep(cfg: ZonesHostConfig, policy: NetworkPolicy): PlanStep {
  const routed = routedPairs(policy);
  return {
    step: "network_policy",
    description: `Keep the networks apart in the global zone${routed.length ? `, but route ${routed.map(([a, b]) => `${a} <-> ${b}`).join(", ")}` : " (no routed pairs)"}`,
    actions: [
      write(cfg.ipfConf, ipfRules(policy), 0o644, "IP Filter rules: block between networks that are not routed"),
      run(["ipf", "-E"], "Enable IP Filter", { alreadyDone: { when: /already enabled/, advice: "" } }),
      run(["ipf", "-Fa", "-f", cfg.ipfConf], "Flush the old rules and load these"),
    ],
  };
}
