import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  backups, campaigns, campaignTargets, environmentActions, environments, hosts, images, imageVersions, orders, pipelineRuns, pipelineSteps, users,
} from "../db/schema";
import { env } from "../env";
import { UserError, conflict } from "../errors";
import { writeAudit } from "../audit/write";
import { requestBackup } from "../backups/backups";
import { refuseWhileBusy } from "../lifecycle/actions";
import { createRebuildRun, dispatchRun } from "../pipeline/runs";
import { driverFor } from "../pipeline/drivers";
import { announce } from "../pipeline/events";
import { notify } from "../notifications/queries";
import { dispatchMail } from "../mail/outbox";
import type { Campaign } from "./access";
import { announceCampaign } from "./events";
import { runHealthCheck } from "./health";
import { noticeResult } from "./notify";
import { currentStepOf, inFlightStatuses } from "./queries";
import { scheduleTick } from "./schedule";

type Target = typeof campaignTargets.$inferSelect;

/** How long one step holds the campaign; a step of a worker that died is taken over after it. */
const LEASE_SECONDS = 30;

/**
 * One step of a campaign's state machine (one job of the `campaign` queue). `tick` is the step's
 * number: a job of an older step, or one while another step holds the campaign, does nothing.
 * The step follows what runs (backups, reinstalls, rollbacks), then starts the pending
 * environments of the current wave, or judges a finished wave (more failures than the threshold
 * stop the campaign) and starts the next, or finishes. It records when the next step is due and
 * enqueues it; everything it knows is in PostgreSQL, so a restarted worker goes on where it was.
 */
export async function runCampaignStep(db: Db, campaignId: string, tick: number): Promise<{ outcome: "done" | "skipped"; next: Date | null }> {
  const [c] = await db
    .update(campaigns)
    .set({ tickLeaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.tick, tick), or(isNull(campaigns.tickLeaseUntil), lt(campaigns.tickLeaseUntil, sql`now()`))))
    .returning();
  if (!c) return { outcome: "skipped", next: null };
  let next: Date | null;
  try {
    next = await advance(db, c);
  } catch (err) {
    await db.update(campaigns).set({ tickLeaseUntil: null }).where(and(eq(campaigns.id, c.id), eq(campaigns.tick, tick))).catch(() => {});
    throw err;
  }
  // Resumed while this step ran: the campaign goes on now.
  const [after] = await db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, c.id));
  if (!next && (after?.status === "running" || after?.status === "scheduled")) next = new Date();
  await db.update(campaigns).set({ tick: tick + 1, nextTickAt: next, tickLeaseUntil: null }).where(and(eq(campaigns.id, c.id), eq(campaigns.tick, tick)));
  if (next) await scheduleTick(c.id, tick + 1, next);
  return { outcome: "done", next };
}

async function targetsOf(db: Db, campaignId: string): Promise<Target[]> {
  return db.select().from(campaignTargets).where(eq(campaignTargets.campaignId, campaignId)).orderBy(asc(campaignTargets.position));
}

const inFlight = (t: Target) => inFlightStatuses.includes(t.status);

async function setTarget(db: Db, t: Target, set: Partial<typeof campaignTargets.$inferInsert>, onlyIf = t.status): Promise<boolean> {
  const rows = await db.update(campaignTargets).set(set).where(and(eq(campaignTargets.id, t.id), eq(campaignTargets.status, onlyIf))).returning({ id: campaignTargets.id });
  return rows.length > 0;
}

async function advance(db: Db, claimed: Campaign): Promise<Date | null> {
  const now = new Date();
  const soon = new Date(now.getTime() + env.CAMPAIGN_TICK_MS);
  let changed = false;
  for (const t of (await targetsOf(db, claimed.id)).filter(inFlight)) changed = (await follow(db, claimed, t)) || changed;
  const targets = await targetsOf(db, claimed.id);
  const busy = targets.some(inFlight);
  // Paused or stopped meanwhile: what runs is still followed to its end.
  const [c] = await db.select().from(campaigns).where(eq(campaigns.id, claimed.id));
  if (!c) return null;
  if (changed) await announceCampaign(c.id, "targets");
  if (c.status === "paused" || c.status === "stopped" || c.status === "completed") return busy ? soon : null;
  if (now < c.windowStart) return c.windowStart;
  if (c.status === "scheduled") {
    await db.update(campaigns).set({ status: "running", startedAt: c.startedAt ?? now, reason: null }).where(and(eq(campaigns.id, c.id), eq(campaigns.status, "scheduled")));
    await announceCampaign(c.id, "running");
  }

  const current = c.wave > 0 ? targets.filter((t) => t.wave === c.wave) : [];
  const waiting = current.filter((t) => t.status === "pending");
  if (waiting.length) {
    for (const t of waiting) {
      if (now >= c.windowEnd) await setTarget(db, t, { status: "skipped", note: "the maintenance window ended before its update started", finishedAt: now });
      else await start(db, c, t);
    }
    await announceCampaign(c.id, "wave");
    return soon;
  }
  if (current.some(inFlight)) return soon;

  // The current wave is over: too many failures stop the campaign by itself.
  if (c.wave > 0) {
    const ran = current.filter((t) => t.status === "done" || t.status === "failed").length;
    const failed = current.filter((t) => t.status === "failed").length;
    if (exceeds(c, failed, ran)) {
      const limit = c.thresholdKind === "count" ? `${c.thresholdValue}` : `${c.thresholdValue}%`;
      const reason = `Wave ${c.wave}: ${failed} of ${ran} environment${ran === 1 ? "" : "s"} failed, more than the threshold (${limit}); stopped by itself. The failed ones can be rolled back from their backups.`;
      await finish(db, c, "stopped", reason);
      return null;
    }
  }

  const pending = targets.filter((t) => t.status === "pending" && t.wave === null);
  const back = targets.filter((t) => t.status === "postponed" && t.postponedUntil && t.postponedUntil <= now && t.postponedUntil < c.windowEnd);
  const eligible = [...pending, ...back].sort((a, b) => a.position - b.position);
  if (now >= c.windowEnd) {
    for (const t of eligible) await setTarget(db, t, { status: "skipped", note: "the maintenance window ended before its turn", finishedAt: now });
    const reason = eligible.length ? `The maintenance window ended: ${eligible.length} environment${eligible.length === 1 ? " was" : "s were"} not updated.` : null;
    await finish(db, c, eligible.length ? "stopped" : "completed", reason ?? summaryOf(await targetsOf(db, c.id)));
    return null;
  }
  if (eligible.length) {
    const wave = c.wave + 1;
    const moved = await db.update(campaigns).set({ wave }).where(and(eq(campaigns.id, c.id), eq(campaigns.wave, c.wave))).returning({ id: campaigns.id });
    if (!moved.length) return soon;
    const chosen = eligible.slice(0, c.waveSize);
    await db.update(campaignTargets).set({ wave, status: "pending", note: null }).where(inArray(campaignTargets.id, chosen.map((t) => t.id)));
    for (const t of chosen) await start(db, { ...c, wave }, { ...t, wave, status: "pending" });
    await announceCampaign(c.id, "wave");
    return soon;
  }
  // Environments postponed to later in the window: the campaign waits for the first of them.
  const later = targets
    .filter((t) => t.status === "postponed" && t.postponedUntil && t.postponedUntil > now && t.postponedUntil < c.windowEnd)
    .map((t) => t.postponedUntil!.getTime());
  if (later.length) return new Date(Math.min(...later));
  await finish(db, c, "completed", summaryOf(targets));
  return null;
}

function exceeds(c: Campaign, failed: number, ran: number): boolean {
  if (failed === 0) return false;
  return c.thresholdKind === "count" ? failed > c.thresholdValue : failed * 100 > c.thresholdValue * ran;
}

function summaryOf(targets: Target[]): string {
  const n = (s: Target["status"]) => targets.filter((t) => t.status === s).length;
  const parts = [
    `${n("done")} updated`,
    n("failed") ? `${n("failed")} failed` : null,
    n("rolled_back") ? `${n("rolled_back")} rolled back` : null,
    n("postponed") ? `${n("postponed")} postponed out of the window` : null,
    n("skipped") ? `${n("skipped")} skipped` : null,
  ];
  return `Finished: ${parts.filter(Boolean).join(", ")}.`;
}

/** The campaign ends (completed, or stopped by itself): recorded, audited, its creator told. */
async function finish(db: Db, c: Campaign, status: "completed" | "stopped", reason: string) {
  const mailIds = await db.transaction(async (tx) => {
    const done = await tx
      .update(campaigns)
      .set({ status, reason, finishedAt: new Date() })
      .where(and(eq(campaigns.id, c.id), inArray(campaigns.status, ["scheduled", "running"])))
      .returning({ id: campaigns.id });
    if (!done.length) return [];
    await writeAudit(tx, { actorId: null, action: status === "stopped" ? "campaign.stop" : "campaign.complete", targetType: "campaign", targetId: c.id, data: { reason, wave: c.wave } });
    const sent = await notify(
      tx,
      { userId: c.createdBy, kind: "campaign.result", title: `Campaign "${c.name}" ${status === "stopped" ? "stopped" : "finished"}`, body: reason, link: `/admin/campaigns/${c.id}` },
      { email: "campaign.result" },
    );
    return [...sent.values()];
  });
  await dispatchMail(mailIds);
  await announceCampaign(c.id, status);
}

/**
 * Starts one environment's update: a backup first (a `backup` action in the campaign creator's
 * name). An environment busy with another action waits (its note says why); one no longer
 * delivered, or already on the target version, is skipped; one that cannot be backed up fails.
 */
async function start(db: Db, c: Campaign, t: Target) {
  const [row] = await db
    .select({ env: environments, status: orders.status })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .where(eq(environments.id, t.environmentId));
  const now = new Date();
  if (!row || row.status !== "ready" || (row.env.state !== "running" && row.env.state !== "stopped")) {
    const why = !row ? "the environment is gone" : row.status !== "ready" ? `its order is ${row.status.replace("_", " ")}` : `the environment is ${row.env.state}`;
    await setTarget(db, t, { status: "skipped", note: `not updated: ${why}`, finishedAt: now });
    return;
  }
  if (row.env.imageVersionId === c.targetVersionId) {
    await setTarget(db, t, { status: "skipped", note: "already on the target version", finishedAt: now });
    return;
  }
  const [busy] = await db
    .select({ action: environmentActions.action })
    .from(environmentActions)
    .where(and(eq(environmentActions.environmentId, t.environmentId), inArray(environmentActions.status, ["queued", "running"])))
    .limit(1);
  if (busy) {
    const note = `waiting: a ${busy.action.replace("_", " ")} of this environment is under way`;
    if (t.note !== note) await setTarget(db, t, { note });
    return;
  }
  const [creator] = await db.select({ id: users.id, role: users.role, email: users.email }).from(users).where(eq(users.id, c.createdBy));
  try {
    const b = await requestBackup(db, creator!, t.environmentId, { onBehalf: true, auditData: { campaign: c.id } });
    await setTarget(db, t, {
      status: "backing_up", backupActionId: b.actionId, backupId: b.id, startedAt: now, fromVersionId: row.env.imageVersionId,
      note: "backing up", error: null,
    });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    if (err.status === 409 && /already (queued|in progress)/.test(err.message)) {
      await setTarget(db, t, { note: `waiting: ${err.message}` });
      return;
    }
    await failTarget(db, c, t, `no backup could be taken: ${err.message}`, now);
  }
}

async function failTarget(db: Db, c: Campaign, t: Target, error: string, at: Date) {
  if (!(await setTarget(db, t, { status: "failed", error: error.slice(0, 1000), note: null, finishedAt: at }))) return;
  const [o] = await db.select({ name: orders.name }).from(orders).where(eq(orders.id, t.orderId));
  const mailIds = await noticeResult(db, c, t.orderId, {
    title: `Updating ${o?.name ?? "your environment"} failed`,
    body: `Patch campaign "${c.name}" could not update it: ${error}${t.backupId ? " It was backed up just before; an admin can roll it back from that backup." : ""}`,
  });
  await dispatchMail(mailIds);
}

/** Moves an environment that is under way on, from what its backup action or pipeline run says. Returns whether it changed. */
async function follow(db: Db, c: Campaign, t: Target): Promise<boolean> {
  if (t.status === "backing_up") {
    const [a] = t.backupActionId ? await db.select().from(environmentActions).where(eq(environmentActions.id, t.backupActionId)) : [];
    if (!a || a.status === "failed") {
      await failTarget(db, c, t, `the backup failed: ${a?.error ?? "its action is gone"}`, a?.finishedAt ?? new Date());
      return true;
    }
    if (a.status === "succeeded") {
      const [b] = t.backupId ? await db.select({ status: backups.status }).from(backups).where(eq(backups.id, t.backupId)) : [];
      if (b?.status !== "succeeded") {
        await failTarget(db, c, t, `the backup is ${b?.status ?? "missing"}`, new Date());
        return true;
      }
      return reinstall(db, c, t);
    }
    const note = a.note ? `backing up: ${a.note}` : "backing up";
    if (note === t.note) return false;
    await setTarget(db, t, { note: note.slice(0, 500) });
    return true;
  }
  const runId = t.status === "rolling_back" ? t.rollbackRunId : t.runId;
  const [run] = runId ? await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId)) : [];
  if (!run) {
    await failTarget(db, c, t, "its pipeline run is gone", new Date());
    return true;
  }
  if (run.status === "queued" || run.status === "running") {
    const step = await currentStepOf(db, run.id);
    const checking = t.status !== "rolling_back" && step?.name === "wait_ready";
    const note = step ? `${t.status === "rolling_back" ? "rolling back" : checking ? "checking" : "reinstalling"}: ${step.label}` : "queued for a worker";
    if (checking && t.status === "reinstalling") {
      await setTarget(db, t, { status: "checking", checkStartedAt: step!.startedAt ?? new Date(), note });
      return true;
    }
    if (note === t.note) return false;
    await setTarget(db, t, { note });
    return true;
  }
  if (t.status === "rolling_back") {
    if (run.status === "succeeded") {
      const [v] = t.fromVersionId ? await db.select({ number: imageVersions.number }).from(imageVersions).where(eq(imageVersions.id, t.fromVersionId)) : [];
      await setTarget(db, t, { status: "rolled_back", rolledBackAt: run.finishedAt ?? new Date(), note: `back on version ${v?.number ?? "?"} from its backup`, error: null });
      const [o] = await db.select({ name: orders.name }).from(orders).where(eq(orders.id, t.orderId));
      await dispatchMail(await noticeResult(db, c, t.orderId, {
        title: `${o?.name ?? "Your environment"} was rolled back`,
        body: `Patch campaign "${c.name}" could not update it, so it was restored from the backup taken just before, on version ${v?.number ?? "?"} of its image, with its name, addresses and MAC addresses.`,
      }));
    } else {
      await setTarget(db, t, { status: "failed", note: null, error: `the rollback failed: ${run.error ?? run.status}; retry it from the order's page` });
    }
    return true;
  }
  // The reinstall is over.
  const [wait] = await db.select({ startedAt: pipelineSteps.startedAt, finishedAt: pipelineSteps.finishedAt }).from(pipelineSteps).where(and(eq(pipelineSteps.runId, run.id), eq(pipelineSteps.name, "wait_ready")));
  const checkStartedAt = t.checkStartedAt ?? wait?.startedAt ?? null;
  if (run.status !== "succeeded") {
    await db.update(campaignTargets).set({ checkStartedAt }).where(eq(campaignTargets.id, t.id));
    await failTarget(db, c, t, run.status === "cancelled" ? "the reinstall was cancelled" : (run.error ?? "the reinstall failed"), run.finishedAt ?? new Date());
    return true;
  }
  const health = await runHealthCheck(db, c.healthCheck, { environmentId: t.environmentId, orderId: t.orderId, runId: run.id });
  if (!health.ok) {
    await db.update(campaignTargets).set({ checkStartedAt }).where(eq(campaignTargets.id, t.id));
    await failTarget(db, c, t, `the health check failed: ${health.why}`, new Date());
    return true;
  }
  const [v] = await db.select({ number: imageVersions.number }).from(imageVersions).where(eq(imageVersions.id, c.targetVersionId));
  const finishedAt = wait?.finishedAt ?? run.finishedAt ?? new Date();
  if (await setTarget(db, t, { status: "done", checkStartedAt, finishedAt, note: `on version ${v?.number}: ${health.detail}`, error: null })) {
    const [o] = await db.select({ name: orders.name, image: images.name }).from(orders).innerJoin(images, eq(images.id, orders.imageId)).where(eq(orders.id, t.orderId));
    await dispatchMail(await noticeResult(db, c, t.orderId, {
      title: `${o?.name ?? "Your environment"} is on ${o?.image ?? "its image"} version ${v?.number}`,
      body: `Patch campaign "${c.name}" reinstalled it with version ${v?.number} of its image; its name, addresses, MAC addresses and the files under /data stayed.`,
    }));
  }
  return true;
}

/**
 * The backup is there: the environment is rebuilt from the target version keeping /data (the
 * same rebuild as a reinstall by its owner), with the same name, addresses and MACs.
 */
async function reinstall(db: Db, c: Campaign, t: Target): Promise<boolean> {
  const [version] = await db.select({ number: imageVersions.number }).from(imageVersions).where(eq(imageVersions.id, c.targetVersionId));
  let run: typeof pipelineRuns.$inferSelect;
  try {
    run = await db.transaction(async (tx) => {
      const [current] = await tx.select().from(environments).where(eq(environments.id, t.environmentId)).for("update");
      await refuseWhileBusy(tx, t.environmentId);
      if (current!.state !== "running" && current!.state !== "stopped" && current!.state !== "error") throw conflict(`the environment is ${current!.state}`);
      const [host] = await tx.select({ kind: hosts.kind }).from(hosts).where(eq(hosts.id, current!.hostId));
      if (!driverFor(host!.kind, tx).capabilities.keepData) throw new UserError(`on ${host!.kind} hosts a reinstall cannot keep /data in this version`, 409);
      const reason = `patch campaign "${c.name}": reinstalling with version ${version?.number} keeping /data`;
      const rebuild = await createRebuildRun(tx, t.orderId, reason, { keepData: true, imageVersionId: c.targetVersionId });
      if (!rebuild) throw conflict("its order is no longer delivered");
      await tx
        .update(campaignTargets)
        .set({ status: "reinstalling", runId: rebuild.id, reinstallStartedAt: rebuild.createdAt, note: "reinstalling: queued" })
        .where(and(eq(campaignTargets.id, t.id), eq(campaignTargets.status, "backing_up")));
      await writeAudit(tx, {
        actorId: null, action: "environment.reinstall", targetType: "environment", targetId: t.environmentId,
        data: { order: t.orderId, run: rebuild.id, keepData: true, campaign: c.id, version: version?.number },
      });
      return rebuild;
    });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    if (err.status === 409 && /already (queued|in progress)/.test(err.message)) {
      await setTarget(db, t, { note: `waiting: ${err.message}` });
      return true;
    }
    await failTarget(db, c, t, `the reinstall could not start: ${err.message}`, new Date());
    return true;
  }
  await announce(t.orderId, "reinstall");
  await dispatchRun(run);
  return true;
}
