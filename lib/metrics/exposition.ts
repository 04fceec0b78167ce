import { sql } from "drizzle-orm";
import { collectDefaultMetrics, Gauge, Registry, type Metric } from "prom-client";
import { rowsOf as rows, type Db } from "../db/client";
import { env } from "../env";
import { getQueue, queueFor, queues, type QueueName } from "../jobs/queues";
import { usageOfHosts } from "../policy/placement";
import { histograms, readHistogram, type HistogramName } from "./histograms";

/**
 * What GET /metrics serves (Prometheus text format, prom-client): figures read from PostgreSQL
 * and Redis when scraped, so every web process answers the same, plus this process's own
 * Node.js figures (process_*, nodejs_*). The names are listed in METRIC_NAMES, which the
 * Grafana dashboard in ops/grafana/ is checked against.
 */

const JOB_STATES = ["waiting", "active", "delayed", "prioritized", "failed"] as const;

/** Gauges: name, help, label names. */
const gauges = {
  portal_orders: { help: "Orders by status", labels: ["status"] },
  portal_environments: { help: "Environments by state (deleted ones left out)", labels: ["state"] },
  portal_host_capacity: { help: "What a host offers: vcpus, memory_bytes, disk_bytes", labels: ["host", "kind", "resource"] },
  portal_host_allocated: { help: "What the environments on a host were given: vcpus, memory_bytes, disk_bytes", labels: ["host", "kind", "resource"] },
  portal_host_environments: { help: "Environments that occupy a host", labels: ["host", "kind"] },
  portal_host_state: { help: "1 for the state a host is in (active, draining, offline)", labels: ["host", "kind", "state"] },
  portal_queue_jobs: { help: "Jobs in each queue by state (owned queues are named queue@worker)", labels: ["queue", "state"] },
  portal_worker_heartbeat_age_seconds: { help: "Seconds since each worker process's last heartbeat", labels: ["worker"] },
  portal_worker_jobs_running: { help: "Jobs a worker process ran at its last heartbeat", labels: ["worker"] },
  portal_host_cpu_used_percent: { help: "Share of a host's CPUs busy at its newest usage sample (left out when none in the last 10 minutes)", labels: ["host", "kind"] },
  portal_host_used: { help: "What a host uses at its newest usage sample: memory_bytes, disk_bytes (left out when none in the last 10 minutes)", labels: ["host", "kind", "resource"] },
  portal_backup_age_seconds: { help: "Seconds since the newest successful backup of each live environment (by hostname) that has one", labels: ["environment"] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

type GaugeName = keyof typeof gauges;

/** Every metric name the portal exports besides the process_* and nodejs_* ones (histograms with their _bucket, _sum and _count series). */
export const METRIC_NAMES: string[] = [
  ...Object.keys(gauges),
  ...Object.keys(histograms).flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]),
];

type Sample = { labels: Record<string, string>; value: number };

/** The database and Redis figures, each gauge with its samples. */
async function gather(db: Db): Promise<Record<GaugeName, Sample[]>> {
  const [orderCounts, envCounts, hostRows, usage, workerRows, backupAges, sampled] = await Promise.all([
    rows<{ status: string; n: number }>(db, sql`select status, count(*)::int as n from orders group by status`),
    rows<{ state: string; n: number }>(db, sql`select state, count(*)::int as n from environments where state <> 'deleted' group by state`),
    rows<{ id: string; name: string; kind: string; state: string; cpus: number; memory_mb: number; disk_gb: number; owner: string | null }>(
      db,
      sql`select id, name, kind, state, cpu_capacity as cpus, memory_mb_capacity as memory_mb, disk_gb_capacity as disk_gb, owner_worker as owner from hosts where removed_at is null`,
    ),
    usageOfHosts(db, null),
    rows<{ id: string; age: number; running: number }>(db, sql`select id, extract(epoch from now() - heartbeat_at)::float8 as age, jobs_running as running from workers`),
    rows<{ name: string; age: number }>(
      db,
      sql`select e.hostname as name, extract(epoch from now() - max(b.finished_at))::float8 as age
          from backups b join environments e on e.id = b.environment_id
          where b.status = 'succeeded' and b.finished_at is not null and e.state <> 'deleted'
          group by e.hostname`,
    ),
    // The newest raw sample of each host (lib/usage), if it is recent.
    rows<{ host_id: string; cpu: number | null; memory: string | null; disk: string | null }>(
      db,
      sql`select distinct on (host_id) host_id, cpu_percent as cpu, memory_bytes as memory, disk_bytes as disk
          from usage_samples where scope = 'host' and resolution = 'raw' and at > now() - interval '10 minutes'
          order by host_id, at desc`,
    ),
  ]);
  const newest = new Map(sampled.map((r) => [r.host_id, r]));
  const owners = [...new Set(hostRows.map((h) => h.owner).filter((o): o is string => !!o))];
  const queueJobs = await queueCounts(owners);

  const host: Sample[] = [], allocated: Sample[] = [], occupying: Sample[] = [], states: Sample[] = [], cpuUsed: Sample[] = [], used: Sample[] = [];
  for (const h of hostRows) {
    const id = { host: h.name, kind: h.kind };
    const u = usage.get(h.id);
    host.push(
      { labels: { ...id, resource: "vcpus" }, value: h.cpus },
      { labels: { ...id, resource: "memory_bytes" }, value: h.memory_mb * 1024 ** 2 },
      { labels: { ...id, resource: "disk_bytes" }, value: h.disk_gb * 1024 ** 3 },
    );
    allocated.push(
      { labels: { ...id, resource: "vcpus" }, value: u?.vcpus ?? 0 },
      { labels: { ...id, resource: "memory_bytes" }, value: (u?.memoryMb ?? 0) * 1024 ** 2 },
      { labels: { ...id, resource: "disk_bytes" }, value: (u?.diskGb ?? 0) * 1024 ** 3 },
    );
    occupying.push({ labels: id, value: u?.environments ?? 0 });
    const s = newest.get(h.id);
    if (s?.cpu != null) cpuUsed.push({ labels: id, value: Number(s.cpu) });
    if (s?.memory != null) used.push({ labels: { ...id, resource: "memory_bytes" }, value: Number(s.memory) });
    if (s?.disk != null) used.push({ labels: { ...id, resource: "disk_bytes" }, value: Number(s.disk) });
    for (const state of ["active", "draining", "offline"]) states.push({ labels: { ...id, state }, value: h.state === state ? 1 : 0 });
  }
  return {
    portal_orders: orderCounts.map((r) => ({ labels: { status: r.status }, value: r.n })),
    portal_environments: envCounts.map((r) => ({ labels: { state: r.state }, value: r.n })),
    portal_host_capacity: host,
    portal_host_allocated: allocated,
    portal_host_environments: occupying,
    portal_host_state: states,
    portal_host_cpu_used_percent: cpuUsed,
    portal_host_used: used,
    portal_queue_jobs: queueJobs,
    portal_worker_heartbeat_age_seconds: workerRows.map((w) => ({ labels: { worker: w.id }, value: Math.max(0, w.age) })),
    portal_worker_jobs_running: workerRows.map((w) => ({ labels: { worker: w.id }, value: w.running })),
    portal_backup_age_seconds: backupAges.map((b) => ({ labels: { environment: b.name }, value: Math.max(0, b.age) })),
  };
}

/** Jobs per state in every shared queue and in the queues of the workers that own hosts. */
async function queueCounts(owners: string[]): Promise<Sample[]> {
  const all = [
    ...(Object.keys(queues) as QueueName[]).map((name) => ({ label: queues[name].name, queue: getQueue(name) })),
    ...owners.flatMap((owner) => (["provision", "lifecycle", "maintenance"] as const).map((name) => ({ label: `${queues[name].name}@${owner}`, queue: queueFor(name, owner) }))),
  ];
  const counts = await Promise.all(all.map((q) => q.queue.getJobCounts(...JOB_STATES)));
  return all.flatMap((q, i) => JOB_STATES.map((state) => ({ labels: { queue: q.label, state }, value: counts[i][state] ?? 0 })));
}

/** A histogram kept in PostgreSQL, as prom-client's registry formats one (cumulative _bucket series, _sum, _count). */
function storedHistogram(db: Db, name: HistogramName): Metric {
  const { help } = histograms[name];
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      const values = (await readHistogram(db, name)).flatMap((h) => [
        ...h.bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...h.labels, le }, value: h.buckets[i] })),
        { metricName: `${name}_bucket`, labels: { ...h.labels, le: "+Inf" }, value: h.count },
        { metricName: `${name}_sum`, labels: h.labels, value: h.sum },
        { metricName: `${name}_count`, labels: h.labels, value: h.count },
      ]);
      return { name, help, type: "histogram", values, aggregator: "sum" };
    },
    reset() {},
  };
  return metric as unknown as Metric;
}

/** One registry per process: the Node.js figures need it to live; the portal's figures are read anew on each scrape. */
const store = globalThis as unknown as { __portalMetrics?: { registry: Registry; latest: Record<GaugeName, Sample[]> | null } };

function registryFor(db: Db) {
  if (store.__portalMetrics) return store.__portalMetrics;
  const registry = new Registry();
  const state: { registry: Registry; latest: Record<GaugeName, Sample[]> | null } = { registry, latest: null };
  collectDefaultMetrics({ register: registry });
  for (const [name, def] of Object.entries(gauges) as [GaugeName, (typeof gauges)[GaugeName]][]) {
    new Gauge({
      name,
      help: def.help,
      labelNames: [...def.labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of state.latest?.[name] ?? []) this.set(s.labels, s.value);
      },
    });
  }
  for (const name of Object.keys(histograms) as HistogramName[]) registry.registerMetric(storedHistogram(db, name));
  store.__portalMetrics = state;
  return state;
}

/** Reused for METRICS_CACHE_MS: several Prometheus servers scraping several web processes cost the database little. */
let cached: { at: number; text: Promise<string> } | null = null;

/** The exposition text (Prometheus text format 0.0.4) and its content type. */
export async function metricsText(db: Db): Promise<{ text: string; contentType: string }> {
  const state = registryFor(db);
  if (!cached || Date.now() - cached.at >= env.METRICS_CACHE_MS) {
    const text = (async () => {
      state.latest = await gather(db);
      return state.registry.metrics();
    })();
    cached = { at: Date.now(), text };
    text.catch(() => {
      if (cached?.text === text) cached = null;
    });
  }
  return { text: await cached.text, contentType: state.registry.contentType };
}
