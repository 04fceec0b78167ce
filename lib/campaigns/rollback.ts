import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { backups, campaigns, campaignTargets, environments, hosts, imageVersions } from "../db/schema";
import type { Actor } from "../auth/actor";
import { conflict, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { refuseWhileBusy } from "../lifecycle/actions";
import { createRebuildRun, dispatchRun } from "../pipeline/runs";
import { driverFor } from "../pipeline/drivers";
import { announce } from "../pipeline/events";
import { campaignForManager } from "./access";
import { announceCampaign } from "./events";
import { campaignView } from "./queries";
import { scheduleTick } from "./schedule";

/**
 * Rolls the campaign's failed environments back from the backups taken just before their
 * update: each is rebuilt from the version it was on, keeping its name, addresses and MACs, with
 * the backup's disk put in place before it boots (a rebuild with the "restore_disk" step). The
 * campaign must not be running (it stopped by itself, or was paused). 409 when none can be
 * rolled back; an environment that cannot (busy, no backup) is reported and left as it is.
 */
export async function rollbackCampaign(db: Db, actor: Actor, campaignId: string) {
  const c = await campaignForManager(db, actor, campaignId);
  if (c.status === "running" || c.status === "scheduled") throw conflict(`The campaign is ${c.status}; pause it (or let it stop) before rolling back`);
  const failed = await db
    .select({ target: campaignTargets, backupStatus: backups.status, version: imageVersions.number })
    .from(campaignTargets)
    .innerJoin(backups, eq(backups.id, campaignTargets.backupId))
    .innerJoin(imageVersions, eq(imageVersions.id, campaignTargets.fromVersionId))
    .where(and(eq(campaignTargets.campaignId, c.id), eq(campaignTargets.status, "failed"), isNull(campaignTargets.rollbackRunId)))
    .orderBy(asc(campaignTargets.position));
  if (failed.length === 0) throw conflict("No failed environment of this campaign can be rolled back (each needs the backup taken before its update)");
  const results: { environment: string; status: "rolling_back" | "failed"; version: number; error?: string }[] = [];
  for (const { target: t, backupStatus, version } of failed) {
    try {
      if (backupStatus !== "succeeded") throw conflict(`its backup is ${backupStatus}`);
      const run = await db.transaction(async (tx) => {
        const [env] = await tx.select().from(environments).where(eq(environments.id, t.environmentId)).for("update");
        if (!env || env.state === "deleted" || env.state === "deleting") throw conflict("the environment is gone");
        await refuseWhileBusy(tx, t.environmentId);
        const [host] = await tx.select({ kind: hosts.kind }).from(hosts).where(eq(hosts.id, env.hostId));
        if (!driverFor(host!.kind, tx).replaceDisk) throw conflict(`on ${host!.kind} hosts a backup cannot be put back during a rebuild in this version; restore it from the environment's Backups`);
        const rebuild = await createRebuildRun(tx, t.orderId, `rollback by ${actor.email} (patch campaign "${c.name}"): version ${version} and the backup taken before the update`, {
          keepData: true, imageVersionId: t.fromVersionId, restoreBackupId: t.backupId, from: ["ready", "failed"],
        });
        if (!rebuild) throw conflict("its order is neither delivered nor failed");
        await tx
          .update(campaignTargets)
          .set({ status: "rolling_back", rollbackRunId: rebuild.id, rollbackStartedAt: rebuild.createdAt, note: "rolling back: queued" })
          .where(and(eq(campaignTargets.id, t.id), eq(campaignTargets.status, "failed")));
        return rebuild;
      });
      await announce(t.orderId, "rollback");
      await dispatchRun(run);
      results.push({ environment: t.environmentId, status: "rolling_back", version });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      results.push({ environment: t.environmentId, status: "failed", version, error: err.message });
    }
  }
  await writeAudit(db, { actorId: actor.id, action: "campaign.rollback", targetType: "campaign", targetId: c.id, data: { environments: results } });
  if (!results.some((r) => r.status === "rolling_back")) throw conflict(`Nothing could be rolled back: ${results.map((r) => r.error).join("; ")}`);
  // The campaign's job follows the rollbacks to their end.
  const now = new Date();
  const [updated] = await db.update(campaigns).set({ nextTickAt: now }).where(eq(campaigns.id, c.id)).returning();
  await scheduleTick(c.id, updated!.tick, now);
  await announceCampaign(c.id, "rollback");
  return { ...(await campaignView(db, updated!)), rollbacks: results };
}
