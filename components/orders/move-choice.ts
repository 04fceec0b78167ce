/**
 * Whether the order page offers an admin a move, and where to: what the page's server part
 * found (hosts, their features and room, what each kind's driver can do) against the
 * environment as the live view shows it. No React here: the unit tests call it.
 */

/** An active host an environment could move to, as the page's server part found it (admins). */
export type MoveTarget = { id: string; name: string; kind: string; features: string[]; freeMemoryMb: number; freeVcpus: number };

/** How a host kind moves guests, as its driver says (computed on the server). */
export type MoveSupport = { live: true } | { live: false; why: string; cold?: boolean };

/** The host features a move needs: one of them, as the kind's driver moves guests (live, else cold). */
export const moveFeatures = ["live-migration", "cold-move"] as const;

/**
 * For admins: the features of the hosts that offer a move (a host left out offers none), the
 * active ones with their room, and per host kind what its driver can do.
 */
export type MoveOptions = { features: Record<string, string[]>; targets: MoveTarget[]; support: Partial<Record<string, MoveSupport>> };

/** A move that can be asked for now (live or cold, and where to), or why none can. */
export type MoveChoice = { mode: "live" | "cold"; targets: MoveTarget[]; note: string | null } | { mode: "live" | "cold" | null; why: string };

type Placed = { host: string; hostKind: string; state: string };

/**
 * Whether the environment can move now, and where: its host kind's driver must move guests
 * (live, else cold), its host must offer that in its features (a QEMU host reached over SSH
 * does not migrate live), it must be running (or, for a cold move, stopped), and another
 * active host of the same kind offering it must have room for its size.
 */
export function moveChoice(env: Placed, size: { vcpus: number; memoryMb: number }, options: MoveOptions): MoveChoice {
  const support = options.support[env.hostKind] ?? { live: false, why: `Environments on ${env.hostKind} hosts cannot be moved in this version.` };
  const cold = !support.live && support.cold === true;
  if (!support.live && !cold) return { mode: null, why: support.why };
  const mode = cold ? "cold" : "live";
  const feature = cold ? moveFeatures[1] : moveFeatures[0];
  const what = cold ? "cold moves" : "live migration";
  if (!(options.features[env.host] ?? []).includes(feature)) return { mode, why: `${env.host} does not offer ${what} (not among its features).` };
  if (cold ? env.state !== "running" && env.state !== "stopped" : env.state !== "running") {
    return { mode, why: `Only a ${cold ? "running or stopped" : "running"} environment can be moved; this one is ${env.state}.` };
  }
  const targets = options.targets.filter(
    (t) => t.kind === env.hostKind && t.name !== env.host && t.features.includes(feature) && t.freeMemoryMb >= size.memoryMb && t.freeVcpus >= size.vcpus,
  );
  if (targets.length === 0) return { mode, why: `No other active ${env.hostKind} host that offers ${what} has room for it.` };
  return { mode, targets, note: support.live ? null : support.why };
}
