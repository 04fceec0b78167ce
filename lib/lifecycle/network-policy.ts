import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts } from "../db/schema";
import { networkPolicy } from "../net/routes";
import { driverFor } from "../pipeline/drivers";

/**
 * The maintenance job `network-policy`: which networks may reach each other (lib/net/routes.ts),
 * applied now on every active or draining host of `owner` (null: the hosts no worker owns) whose
 * driver can, one host after the other. Running guests are not touched. A host that fails is
 * said in the result and the log; the next network setup on it applies the rules again.
 */
export async function applyNetworkPolicyToHosts(db: Db, opts: { owner: string | null }) {
  const policy = await networkPolicy(db);
  const rows = await db
    .select()
    .from(hosts)
    .where(and(inArray(hosts.state, ["active", "draining"]), opts.owner ? eq(hosts.ownerWorker, opts.owner) : isNull(hosts.ownerWorker)));
  const results: { host: string; ok: boolean; lines: string[] }[] = [];
  for (const host of rows) {
    const driver = driverFor(host.kind, db);
    if (!driver.applyNetworkPolicy) continue;
    const lines: string[] = [];
    try {
      await driver.applyNetworkPolicy({ id: host.id, name: host.name, kind: host.kind, address: host.address, config: host.config }, policy, {
        signal: AbortSignal.timeout(120_000),
        log: async (line) => void lines.push(line),
      });
      results.push({ host: host.name, ok: true, lines });
    } catch (err) {
      console.error(`[network-policy] ${host.name}: ${(err as Error).message}`);
      results.push({ host: host.name, ok: false, lines: [...lines, (err as Error).message] });
    }
  }
  return { routes: policy.routes, hosts: results };
}
