import { apiRoute, json } from "@/lib/api/handler";
import { markUnchanged } from "@/lib/audit/write";
import { rebalanceInput } from "@/lib/fleet/input";
import { planRebalance, runRebalance } from "@/lib/fleet/rebalance";

export const dynamic = "force-dynamic";

/**
 * Rebalances memory use across the active hosts of a kind (admins). `dryRun: true`: 200 with the
 * plan (moves, memory per host before and after, its fingerprint); nothing changes.
 * `dryRun: false` with that fingerprint: 202 with the run, followed at GET /api/v1/evacuations/:id;
 * 409 if the fleet changed since the plan was made.
 */
export const POST = apiRoute({ roles: ["admin"], body: rebalanceInput }, async ({ db, actor, body }) => {
  if (body.dryRun) {
    // Looking changes nothing: no audit event for it.
    markUnchanged();
    return json(await planRebalance(db, body.kind));
  }
  return json(await runRebalance(db, actor, { kind: body.kind, fingerprint: body.fingerprint!, parallel: body.parallel }), 202);
});
