import { and, asc, desc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import {
  campaigns, campaignTargets, environments, groups, images, imageVersions, orders, pipelineSteps, users,
  type CampaignSelection, type CampaignStatus, type CampaignTargetStatus,
} from "../db/schema";
import type { Actor } from "../auth/actor";
import { conflict, forbidden, notFound, UserError } from "../errors";
import { markUnchanged, writeAudit } from "../audit/write";
import { dispatchMail } from "../mail/outbox";
import { currentVersionOf, versionByNumber } from "../catalog/versions";
import { isUuid } from "../validation/ids";
import { stepLabel } from "../pipeline/steps";
import { DAY_MS } from "../time";
import { approvedGroupIds, campaignForManager, managedCampaigns, requireCampaignManager, type Campaign } from "./access";
import { announceCampaign } from "./events";
import { noticeOwners, utc } from "./notify";
import { scheduleTick } from "./schedule";
import type { CampaignInput, PostponeInput } from "./input";

const builtVersion = alias(imageVersions, "built_version");
const fromVersion = alias(imageVersions, "from_version");

/** Targets that are under way: the campaign's job follows them. */
export const inFlightStatuses: CampaignTargetStatus[] = ["backing_up", "reinstalling", "checking", "rolling_back"];
/** Campaigns that may still change what they hold. */
export const activeStatuses: CampaignStatus[] = ["scheduled", "running", "paused"];
/** Targets of an active campaign that hold their environment for it. */
const holding: CampaignTargetStatus[] = ["pending", "backing_up", "reinstalling", "checking", "postponed", "rolling_back"];

function byRef(column: typeof groups.id | typeof images.id, slugColumn: typeof groups.slug | typeof images.slug, ref: string): SQL {
  return isUuid(ref) ? or(eq(column, ref), eq(slugColumn, ref))! : eq(slugColumn, ref);
}

type Candidate = {
  environmentId: string; orderId: string; name: string; groupId: string; imageId: string; status: string; state: string;
  versionId: string | null; versionNumber: number | null;
};

async function candidates(db: Db, where: SQL): Promise<Candidate[]> {
  return db
    .select({
      environmentId: environments.id, orderId: orders.id, name: orders.name, groupId: orders.groupId, imageId: orders.imageId,
      status: orders.status, state: environments.state, versionId: environments.imageVersionId, versionNumber: builtVersion.number,
    })
    .from(environments)
    .innerJoin(orders, eq(orders.id, environments.orderId))
    .leftJoin(builtVersion, eq(builtVersion.id, environments.imageVersionId))
    .where(where)
    .orderBy(asc(orders.createdAt), asc(orders.id));
}

/** Environments that another active campaign holds, with its name. */
async function heldByOtherCampaigns(db: Db, environmentIds: string[]): Promise<Map<string, string>> {
  if (environmentIds.length === 0) return new Map();
  const rows = await db
    .select({ environmentId: campaignTargets.environmentId, name: campaigns.name })
    .from(campaignTargets)
    .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .where(and(inArray(campaignTargets.environmentId, environmentIds), inArray(campaigns.status, activeStatuses), inArray(campaignTargets.status, holding)));
  return new Map(rows.map((r) => [r.environmentId, r.name]));
}

const delivered = (c: Candidate) => c.status === "ready" && (c.state === "running" || c.state === "stopped");

/**
 * Starts a patch campaign (admins; approvers for a group they approve for): the environments it
 * takes are checked and listed now, their owners are told ahead, and the campaign's first job
 * waits for the window's start. Invalid input is 422 with the field and creates nothing.
 */
export async function createCampaign(db: Db, actor: Actor, input: CampaignInput, now = new Date()) {
  const scope = await requireCampaignManager(db, actor);
  const fields: Record<string, string[]> = {};
  const [image] = await db.select().from(images).where(byRef(images.id, images.slug, input.image));
  if (!image || image.retiredAt) throw new UserError("The campaign has invalid fields", 422, { image: [`No image "${input.image}" in the catalog`] });
  const target = input.version === undefined ? await currentVersionOf(db, image.id) : await versionByNumber(db, image.id, input.version).catch(() => null);
  if (!target) fields.version = [`${image.name} has no version ${input.version}`];
  if (input.window.end.getTime() <= now.getTime()) fields["window.end"] = [`The window has already ended (it is ${utc(now)} now)`];
  const t = input.targets;
  const [group] = t.group ? await db.select().from(groups).where(byRef(groups.id, groups.slug, t.group)) : [];
  if (t.group && !group) fields["targets.group"] = [`No group "${t.group}"`];
  if (Object.keys(fields).length || !target) throw new UserError("The campaign has invalid fields", 422, fields);
  if (scope !== "all") {
    if (group && !scope.includes(group.id)) throw forbidden(`Only admins and the approvers of ${group.name} can run a campaign for it`);
    if (t.outdated && !group) throw new UserError("The campaign has invalid fields", 422, { "targets.group": ["Choose one of the groups you approve for"] });
  }

  let selection: CampaignSelection;
  let chosen: Candidate[];
  const ofImage = eq(orders.imageId, image.id);
  if (t.environments) {
    selection = { mode: "list", environmentIds: t.environments };
    const found = await candidates(db, inArray(environments.id, t.environments));
    const problems: string[] = [];
    for (const id of t.environments) {
      const c = found.find((f) => f.environmentId === id);
      if (!c || c.state === "deleted") problems.push(`No environment ${id}`);
      else if (scope !== "all" && !scope.includes(c.groupId)) throw forbidden(`${c.name} is not in a group you approve for`);
      else if (c.imageId !== image.id) problems.push(`${c.name} is not built from ${image.name}`);
      else if (!delivered(c)) problems.push(`${c.name} is not a delivered environment (its order is ${c.status.replace("_", " ")})`);
      else if (c.versionId === target.id) problems.push(`${c.name} is already on version ${target.number}`);
    }
    if (problems.length) throw new UserError(`The campaign cannot take these environments: ${problems.join("; ")}`, 422, { "targets.environments": problems });
    const held = await heldByOtherCampaigns(db, t.environments);
    if (held.size) throw conflict(`Already in a running campaign: ${[...held].map(([id, name]) => `${found.find((f) => f.environmentId === id)?.name} (${name})`).join(", ")}`, "targets.environments");
    chosen = t.environments.map((id) => found.find((f) => f.environmentId === id)!);
  } else {
    selection = t.outdated ? { mode: "outdated", groupId: group?.id ?? null } : { mode: "group", groupId: group!.id };
    const found = await candidates(db, group ? and(ofImage, eq(orders.groupId, group.id))! : ofImage);
    const held = await heldByOtherCampaigns(db, found.map((f) => f.environmentId));
    chosen = found.filter(
      (c) => delivered(c) && c.versionId !== target.id && !held.has(c.environmentId) && (!t.outdated || (c.versionNumber ?? 0) < target.number),
    );
    if (chosen.length === 0) {
      const what = t.outdated ? "outdated environment" : "delivered environment on another version";
      throw new UserError("The campaign has invalid fields", 422, { targets: [`No ${what} of ${image.name}${group ? ` in ${group.name}` : ""} to update to version ${target.number}`] });
    }
  }
  const groupIds = [...new Set(chosen.map((c) => c.groupId))];
  const groupId = group?.id ?? (groupIds.length === 1 ? groupIds[0]! : null);
  if (scope !== "all" && !groupId) throw new UserError("The campaign has invalid fields", 422, { "targets.environments": ["Choose environments of one group you approve for"] });

  const name = input.name ?? `${image.name} to version ${target.number}`;
  const threshold = "count" in input.failureThreshold ? { kind: "count" as const, value: input.failureThreshold.count } : { kind: "percent" as const, value: input.failureThreshold.percent };
  const firstTick = new Date(Math.max(now.getTime(), input.window.start.getTime()));
  const { campaign, mailIds } = await db.transaction(async (tx) => {
    const [campaign] = await tx
      .insert(campaigns)
      .values({
        name, imageId: image.id, targetVersionId: target.id, groupId, selection,
        windowStart: input.window.start, windowEnd: input.window.end, waveSize: input.waveSize,
        thresholdKind: threshold.kind, thresholdValue: threshold.value, healthCheck: input.healthCheck, postponeMaxDays: input.postponeMaxDays,
        createdBy: actor.id, nextTickAt: firstTick,
      })
      .returning();
    await tx.insert(campaignTargets).values(
      chosen.map((c, position) => ({ campaignId: campaign!.id, environmentId: c.environmentId, orderId: c.orderId, position, fromVersionId: c.versionId })),
    );
    const mailIds = await noticeOwners(tx, campaign!, target.number, chosen.map((c) => c.environmentId));
    await writeAudit(tx, {
      actorId: actor.id, action: "campaign.create", targetType: "campaign", targetId: campaign!.id,
      data: {
        name, image: image.slug, version: target.number, selection: selection.mode, environments: chosen.length,
        window: { start: input.window.start.toISOString(), end: input.window.end.toISOString() }, waveSize: input.waveSize, threshold,
      },
    });
    return { campaign: campaign!, mailIds };
  });
  await dispatchMail(mailIds);
  await scheduleTick(campaign.id, campaign.tick, firstTick);
  return campaignView(db, campaign);
}

/** The campaigns the actor manages, newest first, with their counts. */
export async function listCampaigns(db: Db, actor: Actor) {
  const scope = await managedCampaigns(db, actor);
  const rows = await db
    .select({ campaign: campaigns, image: images.name, imageSlug: images.slug, version: imageVersions.number, group: groups.name })
    .from(campaigns)
    .innerJoin(images, eq(images.id, campaigns.imageId))
    .innerJoin(imageVersions, eq(imageVersions.id, campaigns.targetVersionId))
    .leftJoin(groups, eq(groups.id, campaigns.groupId))
    .where(scope)
    .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
    .limit(200);
  const counts = rows.length
    ? await db
        .select({ campaignId: campaignTargets.campaignId, status: campaignTargets.status, n: sql<number>`count(*)::int` })
        .from(campaignTargets)
        .where(inArray(campaignTargets.campaignId, rows.map((r) => r.campaign.id)))
        .groupBy(campaignTargets.campaignId, campaignTargets.status)
    : [];
  return rows.map((r) => {
    const mine = counts.filter((c) => c.campaignId === r.campaign.id);
    return {
      ...summary(r.campaign),
      image: { name: r.image, slug: r.imageSlug },
      version: r.version,
      group: r.group,
      environments: mine.reduce((n, c) => n + c.n, 0),
      counts: Object.fromEntries(mine.map((c) => [c.status, c.n])) as Partial<Record<CampaignTargetStatus, number>>,
    };
  });
}

function summary(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    reason: c.reason,
    window: { start: c.windowStart.toISOString(), end: c.windowEnd.toISOString() },
    waveSize: c.waveSize,
    failureThreshold: c.thresholdKind === "count" ? { count: c.thresholdValue } : { percent: c.thresholdValue },
    healthCheck: c.healthCheck,
    postponeMaxDays: c.postponeMaxDays,
    wave: c.wave,
    createdAt: c.createdAt.toISOString(),
    startedAt: c.startedAt?.toISOString() ?? null,
    finishedAt: c.finishedAt?.toISOString() ?? null,
  };
}

const ms = (from: Date | null, to: Date | null) => (from && to ? to.getTime() - from.getTime() : null);

/** The campaign as its page and `GET /api/v1/campaigns/:id` show it: waves, each environment's outcome and timings. */
export async function campaignView(db: Db, c: Campaign) {
  const [head] = await db
    .select({ image: images, version: imageVersions, creator: users.email })
    .from(images)
    .innerJoin(imageVersions, eq(imageVersions.id, c.targetVersionId))
    .innerJoin(users, eq(users.id, c.createdBy))
    .where(eq(images.id, c.imageId));
  const [group] = c.groupId ? await db.select({ name: groups.name }).from(groups).where(eq(groups.id, c.groupId)) : [];
  const rows = await db
    .select({
      target: campaignTargets, hostname: environments.hostname, expiresAt: environments.expiresAt, order: orders.name, orderStatus: orders.status,
      owner: users.email, group: groups.name, from: fromVersion.number, now: builtVersion.number,
    })
    .from(campaignTargets)
    .innerJoin(environments, eq(environments.id, campaignTargets.environmentId))
    .innerJoin(orders, eq(orders.id, campaignTargets.orderId))
    .innerJoin(users, eq(users.id, orders.userId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .leftJoin(fromVersion, eq(fromVersion.id, campaignTargets.fromVersionId))
    .leftJoin(builtVersion, eq(builtVersion.id, environments.imageVersionId))
    .where(eq(campaignTargets.campaignId, c.id))
    .orderBy(asc(campaignTargets.position));
  // Pending targets without a wave yet: the wave they would run in, as things stand.
  let next = 0;
  const targets = rows.map(({ target: t, ...r }) => {
    const planned = t.wave ?? (t.status === "pending" ? c.wave + 1 + Math.floor(next++ / c.waveSize) : null);
    return {
      id: t.id,
      environmentId: t.environmentId,
      orderId: t.orderId,
      name: r.order,
      hostname: r.hostname,
      owner: r.owner,
      group: r.group,
      orderStatus: r.orderStatus,
      wave: t.wave,
      plannedWave: planned,
      status: t.status,
      fromVersion: r.from,
      imageVersion: r.now,
      note: t.note,
      error: t.error,
      postponedUntil: t.postponedUntil?.toISOString() ?? null,
      leaseEnd: r.expiresAt.toISOString(),
      backupId: t.backupId,
      runId: t.runId,
      rollbackRunId: t.rollbackRunId,
      startedAt: t.startedAt?.toISOString() ?? null,
      finishedAt: t.finishedAt?.toISOString() ?? null,
      rolledBackAt: t.rolledBackAt?.toISOString() ?? null,
      timings: {
        backupMs: ms(t.startedAt, t.reinstallStartedAt),
        reinstallMs: ms(t.reinstallStartedAt, t.checkStartedAt ?? (t.status === "failed" ? t.finishedAt : null)),
        checkMs: ms(t.checkStartedAt, t.finishedAt),
        totalMs: ms(t.startedAt, t.finishedAt),
        rollbackMs: ms(t.rollbackStartedAt, t.rolledBackAt),
      },
    };
  });
  const waves = [...new Set(targets.map((t) => t.wave).filter((w): w is number => w !== null))].sort((a, b) => a - b).map((number) => {
    const of = targets.filter((t) => t.wave === number);
    const started = of.map((t) => t.startedAt).filter((x): x is string => Boolean(x)).sort()[0] ?? null;
    const open = of.some((t) => t.status === "pending" || inFlightStatuses.includes(t.status));
    const finished = open ? null : (of.map((t) => t.finishedAt).filter((x): x is string => Boolean(x)).sort().at(-1) ?? null);
    return {
      number,
      environments: of.length,
      done: of.filter((t) => t.status === "done").length,
      failed: of.filter((t) => t.status === "failed").length,
      rolledBack: of.filter((t) => t.status === "rolled_back").length,
      startedAt: started,
      finishedAt: finished,
      durationMs: started && finished ? Date.parse(finished) - Date.parse(started) : null,
    };
  });
  const counts = Object.fromEntries(
    [...new Set(targets.map((t) => t.status))].map((s) => [s, targets.filter((t) => t.status === s).length]),
  ) as Partial<Record<CampaignTargetStatus, number>>;
  return {
    ...summary(c),
    image: { id: head!.image.id, slug: head!.image.slug, name: head!.image.name },
    version: { number: head!.version.number, changelog: head!.version.changelog },
    group: group?.name ?? null,
    createdBy: head!.creator,
    counts,
    waves,
    targets,
    /** Failed environments that a rollback can restore from their backups now. */
    canRollback: c.status !== "running" && c.status !== "scheduled" && targets.some((t) => t.status === "failed" && t.backupId && !t.rollbackRunId),
    /** The page stops following once nothing more can change by itself. */
    final: (c.status === "completed" || c.status === "stopped") && !targets.some((t) => inFlightStatuses.includes(t.status)),
  };
}

export type CampaignView = Awaited<ReturnType<typeof campaignView>>;

/** The campaign's view by id (the caller checked who may see it); 404 when it is gone. */
export async function campaignViewById(db: Db, campaignId: string): Promise<CampaignView> {
  const [c] = await db.select().from(campaigns).where(eq(campaigns.id, campaignId));
  if (!c) throw notFound("Campaign");
  return campaignView(db, c);
}

export async function getCampaign(db: Db, actor: Actor, campaignId: string): Promise<CampaignView> {
  return campaignView(db, await campaignForManager(db, actor, campaignId));
}

/**
 * Pauses the campaign: no new wave starts; what runs now finishes and is recorded. 409 unless
 * it is scheduled or running. Audited.
 */
export async function pauseCampaign(db: Db, actor: Actor, campaignId: string) {
  const c = await campaignForManager(db, actor, campaignId);
  if (c.status === "paused") {
    markUnchanged();
    return campaignView(db, c);
  }
  const [updated] = await db
    .update(campaigns)
    .set({ status: "paused", reason: `paused by ${actor.email}` })
    .where(and(eq(campaigns.id, c.id), inArray(campaigns.status, ["scheduled", "running"])))
    .returning();
  if (!updated) throw conflict(`The campaign is ${c.status}; only a scheduled or running campaign can be paused`);
  await writeAudit(db, { actorId: actor.id, action: "campaign.pause", targetType: "campaign", targetId: c.id, before: { status: c.status }, after: { status: "paused" } });
  await announceCampaign(c.id, "paused");
  return campaignView(db, updated);
}

/** Resumes a paused campaign: scheduled again before its window, else running (its job moves it on now). Audited. */
export async function resumeCampaign(db: Db, actor: Actor, campaignId: string, now = new Date()) {
  const c = await campaignForManager(db, actor, campaignId);
  if (c.status === "running" || c.status === "scheduled") {
    markUnchanged();
    return campaignView(db, c);
  }
  if (c.status !== "paused") throw conflict(`The campaign is ${c.status}; only a paused campaign can be resumed`);
  const status = now < c.windowStart ? "scheduled" : "running";
  const due = new Date(Math.max(now.getTime(), c.windowStart.getTime()));
  const [updated] = await db
    .update(campaigns)
    .set({ status, reason: null, nextTickAt: due })
    .where(and(eq(campaigns.id, c.id), eq(campaigns.status, "paused")))
    .returning();
  if (!updated) throw conflict("The campaign changed meanwhile; reload and try again");
  await writeAudit(db, { actorId: actor.id, action: "campaign.resume", targetType: "campaign", targetId: c.id, before: { status: "paused" }, after: { status } });
  await scheduleTick(c.id, updated.tick, due);
  await announceCampaign(c.id, "resumed");
  return campaignView(db, updated);
}

/**
 * The owner (or an admin) postpones their environment in a campaign: once, by at most the
 * campaign's postponeMaxDays counted from when it would be updated (the window's start, or now
 * once the window is open), and never past the environment's lease end. It then runs in a
 * later wave, or, past the window's end, leaves this campaign. 409 once it has started or was
 * postponed before; 422 for days beyond what is allowed. Audited.
 */
export async function postponeInCampaign(db: Db, actor: Actor, campaignId: string, input: PostponeInput, now = new Date()) {
  if (!isUuid(campaignId)) throw notFound("Campaign");
  const [row] = await db
    .select({ campaign: campaigns, target: campaignTargets, owner: orders.userId, expiresAt: environments.expiresAt, name: orders.name })
    .from(campaignTargets)
    .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .innerJoin(orders, eq(orders.id, campaignTargets.orderId))
    .innerJoin(environments, eq(environments.id, campaignTargets.environmentId))
    .where(and(eq(campaignTargets.campaignId, campaignId), eq(campaignTargets.environmentId, input.environment)));
  // Who may not postpone it does not learn that the campaign or the environment exists.
  if (!row || (actor.role !== "admin" && row.owner !== actor.id)) throw notFound("Campaign or environment");
  const { campaign: c, target: t } = row;
  if (!activeStatuses.includes(c.status)) throw conflict(`The campaign is ${c.status}; nothing can be postponed in it any more`);
  if (c.postponeMaxDays === 0) throw conflict("This campaign allows no postponing");
  if (t.postponedBy) throw conflict(`${row.name} was postponed once already (until ${utc(t.postponedUntil!)}); it can be postponed only once`);
  if (t.status !== "pending") throw conflict(`${row.name} is ${t.status.replace("_", " ")} in this campaign; only an environment whose update has not started can be postponed`);
  const days = input.days ?? c.postponeMaxDays;
  if (days > c.postponeMaxDays) throw new UserError(`This campaign allows postponing by at most ${c.postponeMaxDays} day${c.postponeMaxDays === 1 ? "" : "s"}`, 422, { days: [`At most ${c.postponeMaxDays}`] });
  const from = new Date(Math.max(now.getTime(), c.windowStart.getTime()));
  const until = new Date(from.getTime() + days * DAY_MS);
  if (until > row.expiresAt) {
    const most = Math.floor((row.expiresAt.getTime() - from.getTime()) / DAY_MS);
    const why = `Postponed by ${days} day${days === 1 ? "" : "s"} it would be updated after its lease ends (${utc(row.expiresAt)})${most >= 1 ? `; at most ${most} day${most === 1 ? "" : "s"}` : "; it cannot be postponed"}`;
    throw new UserError(why, 422, { days: [why] });
  }
  const [updated] = await db
    .update(campaignTargets)
    .set({ status: "postponed", postponedUntil: until, postponedBy: actor.id, note: until >= c.windowEnd ? "postponed past the window: not updated by this campaign" : `postponed until ${utc(until)}` })
    .where(and(eq(campaignTargets.id, t.id), eq(campaignTargets.status, "pending"), sql`${campaignTargets.postponedBy} is null`))
    .returning();
  if (!updated) throw conflict(`${row.name}'s update started meanwhile; it can no longer be postponed`);
  await writeAudit(db, {
    actorId: actor.id, action: "campaign.postpone", targetType: "environment", targetId: input.environment,
    data: { campaign: c.id, days, until: until.toISOString(), outOfWindow: until >= c.windowEnd },
  });
  await announceCampaign(c.id, "postponed");
  return { campaign: c.id, environment: input.environment, status: "postponed" as const, postponedUntil: until.toISOString(), outOfWindow: until >= c.windowEnd };
}

/**
 * The active campaigns that hold an environment, as its order page shows them to its owner:
 * when it would be updated, where it stands, and how far it may still be postponed.
 */
export async function campaignsOfEnvironment(db: Db, environmentId: string, now = new Date()) {
  const rows = await db
    .select({ campaign: campaigns, target: campaignTargets, version: imageVersions.number, expiresAt: environments.expiresAt })
    .from(campaignTargets)
    .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .innerJoin(imageVersions, eq(imageVersions.id, campaigns.targetVersionId))
    .innerJoin(environments, eq(environments.id, campaignTargets.environmentId))
    .where(and(eq(campaignTargets.environmentId, environmentId), or(inArray(campaigns.status, activeStatuses), inArray(campaignTargets.status, inFlightStatuses))))
    .orderBy(desc(campaigns.createdAt));
  return rows.map(({ campaign: c, target: t, version, expiresAt }) => {
    const from = Math.max(now.getTime(), c.windowStart.getTime());
    const byLease = Math.floor((expiresAt.getTime() - from) / DAY_MS);
    const maxDays = Math.max(0, Math.min(c.postponeMaxDays, byLease));
    return {
      id: c.id,
      name: c.name,
      status: c.status,
      version,
      window: { start: c.windowStart.toISOString(), end: c.windowEnd.toISOString() },
      target: { status: t.status, wave: t.wave, note: t.note, postponedUntil: t.postponedUntil?.toISOString() ?? null },
      /** How many days the owner may still postpone it by (0: not any more). */
      postponeDays: activeStatuses.includes(c.status) && t.status === "pending" && !t.postponedBy ? maxDays : 0,
    };
  });
}

export type EnvironmentCampaign = Awaited<ReturnType<typeof campaignsOfEnvironment>>[number];

/** The label of the step a run is at now (the page's "reinstalling: Unpack image"). */
export async function currentStepOf(db: Db, runId: string): Promise<{ name: string; label: string; startedAt: Date | null } | null> {
  const [step] = await db
    .select({ name: pipelineSteps.name, startedAt: pipelineSteps.startedAt })
    .from(pipelineSteps)
    .where(and(eq(pipelineSteps.runId, runId), eq(pipelineSteps.status, "running")))
    .orderBy(asc(pipelineSteps.position))
    .limit(1);
  return step ? { ...step, label: stepLabel(step.name) } : null;
}

export { approvedGroupIds };
