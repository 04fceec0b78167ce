import { and, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, hosts, usageSamples } from "../db/schema";
import type { DeploySpec } from "../drivers/types";
import { env } from "../env";
import { deploySpec, loadOrderContext } from "../pipeline/context";
import { driverFor } from "../pipeline/drivers";
import { guestPoint, hostPoint, type PreviousReading, type UsagePoint } from "./rates";
import { rollUpUsage } from "./rollup";

/**
 * One round of usage sampling (the maintenance job `usage`, every USAGE_SAMPLE_MS): every
 * running environment and every active or draining host of the given owner (null: the hosts
 * no worker owns; a worker id: that worker's local QEMU hosts, which only it can read), host
 * by host, USAGE_HOST_CONCURRENCY hosts at a time. A host that does not answer is skipped
 * this round (with its environments) and said once in the log, not every minute, until it
 * answers again. Then the 10-minute averages are brought up to date and old points pruned.
 */
export type SampleRound = { hosts: number; environments: number; skipped: { host: string; reason: string }[]; rolledUp: number; pruned: number };

type HostRow = { id: string; name: string; kind: DeploySpec["host"]["kind"]; address: string; config: Record<string, unknown>; cpuCapacity: number };
type Row = typeof usageSamples.$inferInsert;

// What this process last said about a host or an environment that did not answer.
const unanswered = new Map<string, string>();

function reportOnce(subject: string, reason: string | null, what: string) {
  const before = unanswered.get(subject);
  if (reason === null) {
    if (before !== undefined) console.log(`[usage] ${what} answers again`);
    unanswered.delete(subject);
  } else if (before !== reason) {
    console.error(`[usage] ${what}: no sample (${reason}); skipped until it answers`);
    unanswered.set(subject, reason);
  }
}

/**
 * A host that did not answer last time gets a short wait, so that hosts that are down do not
 * hold the maintenance queue (which also runs the reconciler) for a full timeout every round.
 */
function timeoutFor(subject: string): number {
  return unanswered.has(subject) ? Math.min(5000, env.USAGE_TIMEOUT_MS) : env.USAGE_TIMEOUT_MS;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}

/** The newest raw reading of each subject before `at`: the previous counters. */
async function previousReadings(db: Db, subjectIds: string[], at: Date): Promise<Map<string, PreviousReading>> {
  if (subjectIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([usageSamples.subjectId], {
      subjectId: usageSamples.subjectId,
      at: usageSamples.at,
      cpuSeconds: usageSamples.cpuSeconds,
      rxBytesTotal: usageSamples.rxBytesTotal,
      txBytesTotal: usageSamples.txBytesTotal,
    })
    .from(usageSamples)
    .where(and(inArray(usageSamples.subjectId, subjectIds), eq(usageSamples.resolution, "raw"), lt(usageSamples.at, at)))
    .orderBy(usageSamples.subjectId, sql`${usageSamples.at} desc`);
  return new Map(rows.map((r) => [r.subjectId, r]));
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Where a driver cannot read the whole host (sim), the host's use is the sum of its guests'. */
function sumOfGuests(points: { point: UsagePoint; vcpus: number }[], cpus: number): UsagePoint {
  const sum = (f: (p: UsagePoint) => number | null) => (points.some((p) => f(p.point) !== null) ? points.reduce((a, p) => a + (f(p.point) ?? 0), 0) : null);
  const weighted = points.some((p) => p.point.cpuPercent !== null) ? points.reduce((a, p) => a + ((p.point.cpuPercent ?? 0) / 100) * p.vcpus, 0) : null;
  return {
    cpuPercent: weighted === null || cpus <= 0 ? (points.length === 0 ? 0 : null) : Math.min(100, (weighted / cpus) * 100),
    memoryBytes: sum((p) => p.memoryBytes) ?? 0,
    diskBytes: sum((p) => p.diskBytes) ?? 0,
    rxBytesPerSec: sum((p) => p.rxBytesPerSec),
    txBytesPerSec: sum((p) => p.txBytesPerSec),
  };
}

/** `hostIds`: only these hosts (a test, or sampling one host now). */
export async function sampleUsage(db: Db, opts: { owner: string | null; now?: Date; hostIds?: string[] }): Promise<SampleRound> {
  const at = opts.now ?? new Date();
  const hostRows: HostRow[] = await db
    .select({ id: hosts.id, name: hosts.name, kind: hosts.kind, address: hosts.address, config: hosts.config, cpuCapacity: hosts.cpuCapacity })
    .from(hosts)
    .where(and(isNull(hosts.removedAt), ne(hosts.state, "offline"), opts.owner === null ? isNull(hosts.ownerWorker) : eq(hosts.ownerWorker, opts.owner), opts.hostIds ? inArray(hosts.id, opts.hostIds) : undefined));
  const envRows = hostRows.length
    ? await db
        .select({ id: environments.id, orderId: environments.orderId, hostId: environments.hostId, hostname: environments.hostname })
        .from(environments)
        .where(and(eq(environments.state, "running"), inArray(environments.hostId, hostRows.map((h) => h.id))))
    : [];
  const previous = await previousReadings(db, [...hostRows.map((h) => h.id), ...envRows.map((e) => e.id)], at);
  const round: SampleRound = { hosts: 0, environments: 0, skipped: [], rolledUp: 0, pruned: 0 };
  const rows: Row[] = [];

  await mapLimit(hostRows, env.USAGE_HOST_CONCURRENCY, async (host) => {
    const driver = driverFor(host.kind, db);
    const ref = { id: host.id, name: host.name, kind: host.kind, address: host.address, config: host.config };
    let hostRow: Row | null = null;
    if (driver.hostUsage) {
      try {
        const c = await withTimeout(driver.hostUsage(ref), timeoutFor(host.id), `host ${host.name}`);
        hostRow = { ...base("host", host.id, host.id, null, at), ...hostPoint(c, previous.get(host.id) ?? null, at), cpuSeconds: c.cpuSeconds, rxBytesTotal: c.rxBytes, txBytesTotal: c.txBytes };
        reportOnce(host.id, null, `host ${host.name}`);
      } catch (err) {
        const reason = (err as Error).message;
        reportOnce(host.id, reason, `host ${host.name}`);
        round.skipped.push({ host: host.name, reason });
        return;
      }
    }
    const guests: { point: UsagePoint; vcpus: number }[] = [];
    for (const e of envRows.filter((r) => r.hostId === host.id)) {
      if (!driver.usage) break;
      try {
        const spec = deploySpec(await loadOrderContext(db, e.orderId));
        const c = await withTimeout(driver.usage(spec, at), env.USAGE_TIMEOUT_MS, `${e.hostname} on ${host.name}`);
        const point = guestPoint(c, previous.get(e.id) ?? null, at);
        rows.push({ ...base("environment", e.id, host.id, e.id, at), ...point, cpuSeconds: c.cpuSeconds, rxBytesTotal: c.rxBytes, txBytesTotal: c.txBytes });
        guests.push({ point, vcpus: c.vcpus });
        round.environments++;
        reportOnce(e.id, null, `${e.hostname} on ${host.name}`);
      } catch (err) {
        reportOnce(e.id, (err as Error).message, `${e.hostname} on ${host.name}`);
      }
    }
    rows.push(hostRow ?? { ...base("host", host.id, host.id, null, at), ...sumOfGuests(guests, host.cpuCapacity) });
    round.hosts++;
  });

  // A second round at the same time (a retried job) writes nothing twice.
  if (rows.length) await db.insert(usageSamples).values(rows).onConflictDoNothing();
  const rolled = await rollUpUsage(db, at);
  return { ...round, ...rolled };
}

function base(scope: "environment" | "host", subjectId: string, hostId: string, environmentId: string | null, at: Date) {
  return { scope, subjectId, hostId, environmentId, resolution: "raw" as const, at, points: 1 };
}
