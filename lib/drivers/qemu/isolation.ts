import { isolationRuleset, ISOLATION_TABLE } from "../network-policy";
import type { Transport } from "../transport/types";
import type { NetworkPolicy } from "../types";
import { bridgeName } from "./netns";

/**
 * Networks kept apart on a QEMU host. All of a host's network bridges live in its one network
 * namespace, which holds every network's gateway address: with forwarding on it would route
 * between them. So the namespace forwards only what its nftables table allows: within one
 * network (bridged frames, should the bridge hand them to netfilter) and between the pairs an
 * admin marked routed; everything else between networks is dropped. Without nft on the host,
 * forwarding stays off: nothing is routed (the safe side), and the log says so.
 *
 * The table is replaced as a whole in one nft transaction, then forwarding is switched on, so
 * there is no moment of open forwarding; running guests keep their NICs and addresses.
 *
 * Applies `policy` in the namespace: bridged frames stay out of the IP filter, the table goes
 * in, and forwarding is switched on; without nft, forwarding is switched off. Returns log lines.
 */
export { ISOLATION_TABLE };

export async function applyIsolation(t: Transport, netns: string, policy: NetworkPolicy, signal?: AbortSignal): Promise<string[]> {
  const inNs = (argv: string[], stdin?: string) => t.run(["ip", "netns", "exec", netns, ...argv], { timeoutMs: 15_000, signal, stdin });
  // Frames within one bridge are the network's own traffic: not for the IP filter (where the kernel has that switch).
  await inNs(["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0"]).catch(() => null);
  const loaded = await inNs(["nft", "-f", "-"], isolationRuleset(policy, (n) => bridgeName(n.cidr))).catch((err: Error) => ({ code: -1, stderr: err.message, stdout: "" }));
  if (loaded.code !== 0) {
    await inNs(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    const why = /exec of "nft" failed|No such file/.test(loaded.stderr) ? "nft (nftables) is not installed on this host" : `nft refused the rules: ${loaded.stderr.trim().split("\n").slice(-2).join(" | ")}`;
    return [`${why}: forwarding stays off in ${netns}, so no two networks reach each other (routed pairs need nftables)`];
  }
  const on = await inNs(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  if (on.code !== 0) return [`forwarding could not be switched on in ${netns} (${on.stderr.trim()}): no two networks reach each other`];
  const routed = policy.routes.filter(([a, b]) => policy.networks.some((n) => n.slug === a) && policy.networks.some((n) => n.slug === b));
  return [`networks kept apart in ${netns} (nftables table ${ISOLATION_TABLE})${routed.length ? `; routed: ${routed.map(([a, b]) => `${a} <-> ${b}`).join(", ")}` : "; no routed pairs"}`];
}

/** Whether the host's namespace exists yet (it is made with the first guest's network). */
export async function namespaceExists(t: Transport, netns: string): Promise<boolean> {
  const list = await t.run(["ip", "netns", "list"]).catch(() => null);
  return Boolean(list && list.code === 0 && list.stdout.split("\n").some((l) => l.split(/\s+/)[0] === netns));
}
