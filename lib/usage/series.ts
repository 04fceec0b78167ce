import { and, eq, gt, isNull, lte, sql } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/client";
import { hosts, usageSamples } from "../db/schema";
import { notFound, UserError } from "../errors";
import { environmentForOwner } from "../lifecycle/actions";

/**
 * What the charts and the API show: one subject's points over the last hour (raw points, per
 * minute), day (5-minute averages of the raw points) or 30 days (hourly averages of the
 * 10-minute ones).
 */
export const usageRanges = {
  "1h": { ms: 3600_000, resolution: "raw", bucket: "1 minute", label: "last hour" },
  "1d": { ms: 24 * 3600_000, resolution: "raw", bucket: "5 minutes", label: "last day" },
  "30d": { ms: 30 * 24 * 3600_000, resolution: "10m", bucket: "1 hour", label: "last 30 days" },
} as const;
export type UsageRange = keyof typeof usageRanges;
export const usageRangeInput = z.object({ range: z.enum(["1h", "1d", "30d"]).default("1h") });

export type UsageSeriesPoint = {
  at: string;
  cpuPercent: number | null;
  memoryBytes: number | null;
  diskBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
};

export type UsageSeries = { range: UsageRange; from: string; to: string; bucket: string; points: UsageSeriesPoint[] };

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function usageSeries(db: Db, subjectId: string, range: UsageRange, now = new Date()): Promise<UsageSeries> {
  const r = usageRanges[range];
  const from = new Date(now.getTime() - r.ms);
  // The bucket is one of usageRanges' constants, written into the query so GROUP BY and the select match.
  const bucket = sql`date_bin(${sql.raw(`'${r.bucket}'`)}::interval, ${usageSamples.at}, timestamptz '2000-01-01')`;
  const rows = await db
    .select({
      at: sql<string>`${bucket}`,
      cpuPercent: sql<number | null>`avg(${usageSamples.cpuPercent})`,
      memoryBytes: sql<number | null>`avg(${usageSamples.memoryBytes})`,
      diskBytes: sql<number | null>`avg(${usageSamples.diskBytes})`,
      rxBytesPerSec: sql<number | null>`avg(${usageSamples.rxBytesPerSec})`,
      txBytesPerSec: sql<number | null>`avg(${usageSamples.txBytesPerSec})`,
    })
    .from(usageSamples)
    .where(and(eq(usageSamples.subjectId, subjectId), eq(usageSamples.resolution, r.resolution), gt(usageSamples.at, from), lte(usageSamples.at, now)))
    .groupBy(bucket)
    .orderBy(bucket);
  return {
    range,
    from: from.toISOString(),
    to: now.toISOString(),
    bucket: r.bucket,
    points: rows.map((p) => ({
      at: new Date(p.at).toISOString(),
      cpuPercent: p.cpuPercent === null ? null : Math.round(Number(p.cpuPercent) * 10) / 10,
      memoryBytes: num(p.memoryBytes) === null ? null : Math.round(Number(p.memoryBytes)),
      diskBytes: num(p.diskBytes) === null ? null : Math.round(Number(p.diskBytes)),
      rxBytesPerSec: num(p.rxBytesPerSec) === null ? null : Math.round(Number(p.rxBytesPerSec)),
      txBytesPerSec: num(p.txBytesPerSec) === null ? null : Math.round(Number(p.txBytesPerSec)),
    })),
  };
}

/** An environment's use, for its owner or an admin (404 to anyone else, approvers included). */
export async function environmentUsage(db: Db, actor: Actor, environmentId: string, range: UsageRange, now?: Date): Promise<UsageSeries & { environmentId: string }> {
  const environment = await environmentForOwner(db, actor, environmentId).catch((err) => {
    throw err instanceof UserError && err.status === 403 ? notFound("Environment") : err;
  });
  return { environmentId: environment.id, ...(await usageSeries(db, environment.id, range, now)) };
}

/** A registered host's own use (admins; the route checks the role). */
export async function hostUsage(db: Db, hostId: string, range: UsageRange, now?: Date): Promise<UsageSeries & { hostId: string }> {
  const [host] = await db.select({ id: hosts.id }).from(hosts).where(and(eq(hosts.id, hostId), isNull(hosts.removedAt)));
  if (!host) throw notFound("Host");
  return { hostId: host.id, ...(await usageSeries(db, host.id, range, now)) };
}
