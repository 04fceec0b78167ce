import type { NetworkPolicy } from "./types";

/**
 * Networks kept apart on a Linux host (a QEMU host's network namespace, a Xen dom0): one
 * nftables table whose forward chain drops everything between networks but the routed pairs
 * (and a network's own bridged frames, should the bridge hand them to netfilter). Each driver
 * names the bridges its own way (QEMU: from the block; Xen: the network's bridge). The table is
 * replaced as a whole in one nft transaction (`nft -f`).
 */
export const ISOLATION_TABLE = "portal_isolation";

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
/** A Linux network device name (IFNAMSIZ: at most 15 characters). */
const DEVICE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

/** The nft ruleset for `policy` with the driver's bridge names (one per network, from its block). */
export function isolationRuleset(policy: NetworkPolicy, bridgeOf: (n: NetworkPolicy["networks"][number]) => string): string {
  for (const n of policy.networks) {
    // Names go into the rules file as quoted strings: only what a slug and a device name may hold.
    if (!SLUG.test(n.slug)) throw new Error(`invalid network slug ${JSON.stringify(n.slug)}`);
    if (!DEVICE.test(bridgeOf(n))) throw new Error(`invalid bridge name ${JSON.stringify(bridgeOf(n))} for network ${n.slug}`);
  }
  const bySlug = new Map(policy.networks.map((n) => [n.slug, n]));
  const lines = [
    `# written by the environment portal: networks are kept apart but for the routed pairs`,
    `table inet ${ISOLATION_TABLE}`,
    `delete table inet ${ISOLATION_TABLE}`,
    `table inet ${ISOLATION_TABLE} {`,
    `\tchain forward {`,
    `\t\ttype filter hook forward priority filter; policy drop;`,
  ];
  for (const n of [...policy.networks].sort((a, b) => a.slug.localeCompare(b.slug))) {
    const br = bridgeOf(n);
    lines.push(`\t\tiifname "${br}" oifname "${br}" accept comment "within ${n.slug}"`);
  }
  const pairs = policy.routes
    .map(([a, b]) => [bySlug.get(a), bySlug.get(b)] as const)
    .filter((p): p is readonly [NetworkPolicy["networks"][number], NetworkPolicy["networks"][number]] => Boolean(p[0] && p[1]))
    .map(([a, b]) => (a.slug < b.slug ? [a, b] : [b, a]))
    .sort((x, y) => `${x[0].slug} ${x[1].slug}`.localeCompare(`${y[0].slug} ${y[1].slug}`));
  for (const [a, b] of pairs) {
    lines.push(`\t\tiifname "${bridgeOf(a)}" oifname "${bridgeOf(b)}" accept comment "routed ${a.slug} to ${b.slug}"`);
    lines.push(`\t\tiifname "${bridgeOf(b)}" oifname "${bridgeOf(a)}" accept comment "routed ${b.slug} to ${a.slug}"`);
  }
  lines.push(`\t}`, `}`, "");
  return lines.join("\n");
}


/** The routed pairs of `policy` whose networks both exist, each once, by slug. */
export function routedPairs(policy: NetworkPolicy): [string, string][] {
  const known = new Set(policy.networks.map((n) => n.slug));
  return policy.routes.filter(([a, b]) => known.has(a) && known.has(b) && a !== b);
}
