/**
 * Service IPs and separated networks on a Xen host, as command plans. NOT run on a real Xen
 * host: written from ip(8), arping(8) (iputils), nft(8) and the xl/LVM reference, tested
 * against reviewed golden files and the host emulators in tests/emulators/.
 *
 * A service IP rides on the guest's NIC of its network (eth<i>, i = the network's place in the
 * domain's vif list, as the glue's interfaces file numbers them). While the guest runs, dom0
 * logs in to it over SSH as root with the host's guest key (config guestKey; the host's guest
 * images carry its public half) and runs `ip addr replace` and `arping -U` there, then writes
 * the guest's /etc/network/interfaces with the address as an `up` line, so a boot keeps it. A
 * stopped guest gets only the file, written on its mounted disk as the glue step does.
 *
 * Networks are kept apart on dom0 by one nftables table (lib/drivers/network-policy.ts) with
 * the networks' bridges (network.bridge); forwarding is switched on after it, as on QEMU hosts.
 */
import { isolationRuleset, routedPairs } from "../network-policy";
import { run, write, type PlanStep } from "../plan/types";
import { assertSafeSpec } from "../plan/validate";
import { StepError, type DeploySpec, type NetworkPolicy, type ServiceIpRef } from "../types";
import type { XenHostConfig } from "./config";
import { interfacesFile, primaryAddress, xenNames } from "./plan";

/** The guest's device for the service IP: eth<i> of its address on the service IP's network. */
export function xenGuestDevice(spec: DeploySpec, sip: ServiceIpRef): string {
  const i = spec.addresses.findIndex((a) => a.network === sip.network);
  if (i < 0) throw new StepError(`${spec.hostname} has no address on network ${sip.network}, so service IP ${sip.ip} cannot ride on it`);
  return `eth${i}`;
}

/** `ssh ... root@<guest>`: dom0 to the running guest, with the host's guest key, never asking. */
function toGuest(spec: DeploySpec, cfg: XenHostConfig): string[] {
  const address = primaryAddress(spec);
  if (!address) throw new StepError(`${spec.hostname} has no address dom0 could reach it by`);
  return ["ssh", "-i", cfg.guestKey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10", `root@${address.ip}`];
}

const sshHint = "dom0 logs in to the guest as root with its guest key (host config guestKey): check that the guest runs, answers on SSH and carries the key's public half";

/** The guest's interfaces file, written over SSH (the running guest keeps it for its next boot). */
function persistAction(spec: DeploySpec, cfg: XenHostConfig) {
  return run([...toGuest(spec, cfg), "cp", "/dev/stdin", "/etc/network/interfaces"], "The guest's /etc/network/interfaces with its service IPs, so a boot keeps them", {
    stdin: interfacesFile(spec),
    hint: sshHint,
  });
}

/** Puts the service IP on the running guest and announces it; `spec.serviceIps` lists it. */
export function xenServiceIpAttachStep(spec: DeploySpec, cfg: XenHostConfig, sip: ServiceIpRef): PlanStep {
  assertSafeSpec({ ...spec, serviceIps: [...(spec.serviceIps ?? []), sip] });
  const dev = xenGuestDevice(spec, sip);
  return {
    step: "attach_ip",
    description: `Put service IP ${sip.ip} on ${spec.hostname}'s ${dev} (network ${sip.network}) and announce it`,
    actions: [
      run([...toGuest(spec, cfg), "ip", "addr", "replace", `${sip.ip}/32`, "dev", dev], `${sip.ip}/32 on ${dev} (replace: no error when it is there already)`, { hint: sshHint }),
      run([...toGuest(spec, cfg), "arping", "-U", "-c", "2", "-I", dev, sip.ip], "Gratuitous ARP: the network's neighbours send to this guest now", {
        okCodes: { 1: "no neighbour answered (none is expected to an unsolicited ARP)" },
      }),
      persistAction(spec, cfg),
    ],
  };
}

/** Takes the service IP off the running guest; with `persist`, its interfaces file too (`spec.serviceIps` no longer lists it). */
export function xenServiceIpDetachStep(spec: DeploySpec, cfg: XenHostConfig, sip: ServiceIpRef, persist = true): PlanStep {
  assertSafeSpec({ ...spec, serviceIps: [...(spec.serviceIps ?? []), sip] });
  const dev = xenGuestDevice(spec, sip);
  return {
    step: "detach_ip",
    description: `Take service IP ${sip.ip} off ${spec.hostname}'s ${dev}`,
    actions: [
      run([...toGuest(spec, cfg), "ip", "addr", "del", `${sip.ip}/32`, "dev", dev], `${sip.ip}/32 off ${dev}`, {
        alreadyDone: { when: /Cannot assign requested address|Address not found/, advice: "", note: `${sip.ip} is not on ${dev}` },
        hint: sshHint,
      }),
      ...(persist ? [persistAction(spec, cfg)] : []),
    ],
  };
}

/** The running guest's interfaces file with `spec.serviceIps` (after a move, when the address already answers elsewhere). */
export function xenServiceIpPersistStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  assertSafeSpec(spec);
  return { step: "persist_service_ips", description: `Write ${spec.hostname}'s service IPs into its interfaces file`, actions: [persistAction(spec, cfg)] };
}

/** A stopped guest: its interfaces file written on its mounted disk, as the glue step does. */
export function xenServiceIpOfflineStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  return {
    step: "persist_service_ips",
    description: `${spec.hostname} is stopped: write its service IPs into the interfaces file on its disk`,
    actions: [
      run(["mkdir", "-p", n.mountPoint], "Mount point for the guest's disk"),
      run(["mount", n.device, n.mountPoint], "Mount the guest's filesystem on the host", { alreadyDone: { when: /already mounted/, advice: "" } }),
      write(`${n.mountPoint}/etc/network/interfaces`, interfacesFile(spec), 0o644, "Static addresses and service IPs, one interface per network"),
      run(["umount", n.mountPoint], "Unmount the guest's filesystem", { alreadyDone: { when: /not mounted|no mount point|mountpoint not found/, advice: "" } }),
    ],
  };
}

/** Networks kept apart on dom0: the nftables table (bridges by network.bridge), then forwarding on. */
export function xenNetworkPolicyStep(cfg: XenHostConfig, policy: NetworkPolicy): PlanStep {
  const file = `${cfg.configDir}/portal-isolation.nft`;
  const routed = routedPairs(policy);
  return {
    step: "network_policy",
    description: `Keep the networks apart on dom0${routed.length ? `, but route ${routed.map(([a, b]) => `${a} <-> ${b}`).join(", ")}` : " (no routed pairs)"}`,
    actions: [
      write(file, isolationRuleset(policy, (n) => n.bridge), 0o644, "nftables table: forward only within a network and between routed pairs"),
      run(["nft", "-f", file], "Replace the table in one transaction", { hint: "dom0 needs nftables (Debian package nftables) and a kernel with nf_tables" }),
      run(["sysctl", "-w", "net.ipv4.ip_forward=1"], "Forwarding on: what the table allows is routed, nothing else"),
    ],
  };
}
