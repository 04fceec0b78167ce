import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** How long each resolution is kept. */
export const RAW_KEEP_MS = 24 * 3600_000;
export const DOWNSAMPLED_KEEP_MS = 30 * 24 * 3600_000;
/** The downsampled resolution's bucket. */
export const BUCKET = "10 minutes";

/**
 * Brings the 10-minute averages up to date from the raw points and prunes what is past its
 * keep: raw points after 24 hours, averages after 30 days. Set-based and idempotent: every
 * finished bucket still covered by raw points is (re)computed with an upsert, so a second run,
 * or a run after a missed one, gives the same rows. A bucket is finished when `now` is past
 * its end; the bucket in progress waits for the next round.
 */
export async function rollUpUsage(db: Db, now: Date): Promise<{ rolledUp: number; pruned: number }> {
  const nowIso = now.toISOString();
  const rolled = await db.execute(sql`
    insert into usage_samples (scope, subject_id, environment_id, host_id, resolution, at, cpu_percent, memory_bytes, disk_bytes, rx_bytes_per_sec, tx_bytes_per_sec, points)
    select scope, subject_id, (array_agg(environment_id))[1], (array_agg(host_id order by at desc))[1], '10m',
           date_bin(${BUCKET}::interval, at, timestamptz '2000-01-01') as bucket,
           avg(cpu_percent), round(avg(memory_bytes))::bigint, round(avg(disk_bytes))::bigint,
           avg(rx_bytes_per_sec), avg(tx_bytes_per_sec), count(*)
      from usage_samples
     where resolution = 'raw'
       and at < date_bin(${BUCKET}::interval, ${nowIso}::timestamptz, timestamptz '2000-01-01')
       and at >= ${nowIso}::timestamptz - interval '25 hours'
     group by scope, subject_id, bucket
    on conflict (subject_id, resolution, at) do update set
      cpu_percent = excluded.cpu_percent, memory_bytes = excluded.memory_bytes, disk_bytes = excluded.disk_bytes,
      rx_bytes_per_sec = excluded.rx_bytes_per_sec, tx_bytes_per_sec = excluded.tx_bytes_per_sec, points = excluded.points
    where usage_samples.points <> excluded.points`);
  const pruned = await db.execute(sql`
    delete from usage_samples
     where (resolution = 'raw' and at < ${nowIso}::timestamptz - ${`${RAW_KEEP_MS / 1000} seconds`}::interval)
        or (resolution = '10m' and at < ${nowIso}::timestamptz - ${`${DOWNSAMPLED_KEEP_MS / 1000} seconds`}::interval)`);
  return { rolledUp: rowCount(rolled), pruned: rowCount(pruned) };
}

function rowCount(r: unknown): number {
  const x = r as { rowCount?: number | null; affectedRows?: number };
  return x.rowCount ?? x.affectedRows ?? 0;
}
