import type { Db } from "../db/client";

/** What a campaign's check says about one environment after its reinstall. */
export type HealthResult = { ok: true; detail: string } | { ok: false; why: string };

/** A check run once the reinstall's run succeeded (`runId`: that run). */
export type HealthCheck = (db: Db, target: { environmentId: string; orderId: string; runId: string }) => Promise<HealthResult>;

/**
 * The checks a campaign can run after each reinstall, by name (campaigns.health_check). The
 * reinstall's own "Wait until ready" step is the first check: it accepts the guest only once it
 * reports ready with its hostname, addresses and MACs, its /data mounted, its SSH server up,
 * (QEMU) the image version it was built from, and for a catalog item with a recipe the recipe's
 * own check passed (recipe-check=ok on the ready line). Checks that need more than the guest's
 * word (a probe from outside, a test suite run over SSH) are to be added here under their names.
 */
export const healthChecks: Record<string, HealthCheck> = {
  "ready-line": async () => ({ ok: true, detail: "the guest reported ready (its ready line matched)" }),
};

export async function runHealthCheck(db: Db, name: string, target: { environmentId: string; orderId: string; runId: string }): Promise<HealthResult> {
  const check = healthChecks[name];
  if (!check) return { ok: false, why: `no health check "${name}" in this version of the portal` };
  return check(db, target);
}
