/**
 * A portal whose only active hosts are emulated ones (./emulated-hosts.ts): the other hosts are
 * drained, a worker runs, and one customer of an auto-approving group has an API token.
 */
import type { Db } from "@/lib/db/client";
import { hosts } from "@/lib/db/schema";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { startWorkers } from "@/workers/runtime";
import { hostRowOf, stopEmulatedHosts, type EmulatedHost } from "./emulated-hosts";
import { makeGroup, makeUser, tokenFor } from "./portal";

export async function portalOnEmulatedHosts(db: Db, emulated: EmulatedHost[]) {
  await db.update(hosts).set({ state: "draining" });
  for (const h of emulated) await db.insert(hosts).values(hostRowOf(h));
  const worker = await startWorkers();
  const group = await makeGroup(db, { autoApprove: true });
  const owner = await makeUser(db, "customer", group.slug);
  const token = await tokenFor(db, owner);
  return {
    owner,
    token,
    /** Worker, SSH connections and the emulated hosts, in that order. */
    stop: async () => {
      await worker.stop();
      await closeSshConnections();
      await stopEmulatedHosts(emulated);
    },
  };
}
