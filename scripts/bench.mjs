// `npm run bench`: figures for the built portal on loopback, in the production shape
// (PostgreSQL + Redis, web with the worker embedded), sim driver at zero step time.
//   (a) POST /api/v1/orders latency, p50/p95, at 50 concurrent clients
//   (b) catalog page latency, p50/p95, at 50 concurrent clients (signed in)
//   (c) orders delivered per minute (submit to ready), against the raw throughput of no-op
//       BullMQ jobs on the same Redis with the same worker concurrency: their ratio is the
//       cost of the pipeline (11 persisted steps, logs, events) per job.
// Not part of `npm test`: a slow machine gives other figures, not a failure.
// Options (environment): BENCH_REQUESTS (default 500), BENCH_ORDERS (300), BENCH_PORT (3290).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Queue, Worker } from "bullmq";
import { createApiToken, deleteRedisKeys, dropDatabase, ensureBuild, freshDatabase, nextStartArgs, portOpen, signIn, waitFor } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const port = Number(process.env.BENCH_PORT || 3290);
const base = `http://127.0.0.1:${port}`;
const requests = Number(process.env.BENCH_REQUESTS || 500);
const orderCount = Number(process.env.BENCH_ORDERS || 300);
const concurrency = 50;
const workerConcurrency = 8;
const dbName = "portal_bench";
const adminUrl = process.env.BENCH_PG_ADMIN_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = "redis://127.0.0.1:6379";
const prefix = `bench_${process.pid}`;
const password = "bench-admin-password";

function log(line) {
  console.log(`[bench] ${line}`);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs `total` requests with `clients` concurrent loops; returns latencies (ms) and status counts. */
async function load(total, clients, request) {
  const latencies = [];
  const statuses = new Map();
  let next = 0;
  const loop = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      let status = "error";
      try {
        const res = await request(i);
        status = String(res.status);
        await res.arrayBuffer();
      } catch (err) {
        status = `error: ${err instanceof Error ? err.message : err}`;
      }
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, loop));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), rps: total / seconds, statuses: Object.fromEntries(statuses) };
}

async function main() {
  if (await portOpen("127.0.0.1", port, 300)) throw new Error(`port ${port} is in use; set BENCH_PORT`);
  if (!(await ensureBuild(root))) throw new Error("the build failed");

  const dbUrl = await freshDatabase(adminUrl, dbName);

  const server = spawn(process.execPath, nextStartArgs(root, port, "127.0.0.1"), {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      PORTAL_EMBEDDED_WORKER: "1",
      WORKER_CONCURRENCY: String(workerConcurrency),
      SIM_STEP_MS: "0",
      ADMIN_PASSWORD: password,
      AUTH_SECRET: "bench-secret-bench-secret-bench-secret",
      NEXTAUTH_URL: base,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const db = new pg.Client({ connectionString: dbUrl });
  try {
    const up = await waitFor(async () => (await fetch(`${base}/api/health`).catch(() => null))?.status === 200, { timeoutMs: 120_000, intervalMs: 300 });
    if (!up) throw new Error("the portal did not become healthy within two minutes");
    await db.connect();
    // Room for every order the bench makes: wide networks, big sim hosts.
    await db.query(`update networks set cidr = case purpose when 'service' then '10.20.0.0/16' else '10.30.0.0/16' end`);
    await db.query(`update hosts set cpu_capacity = 1000000, memory_mb_capacity = 1000000000, disk_gb_capacity = 100000000`);
    const cookie = await signIn(base, "admin@portal.local", password);
    const token = await createApiToken(base, cookie, "bench");
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const cpus = (await import("node:os")).cpus();
    log(`machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, Node ${process.version}; PostgreSQL + Redis on loopback; worker concurrency ${workerConcurrency}`);

    // (a) order submission
    const a = await load(requests, concurrency, (i) =>
      fetch(`${base}/api/v1/orders`, { method: "POST", headers: auth, body: JSON.stringify({ image: "linux-test", flavor: "small", name: `bench-a-${i}` }) }),
    );
    log(`(a) POST /api/v1/orders, ${requests} requests, ${concurrency} concurrent: p50 ${a.p50.toFixed(1)} ms, p95 ${a.p95.toFixed(1)} ms, ${a.rps.toFixed(0)} req/s, statuses ${JSON.stringify(a.statuses)}`);
    await drain(db, 300_000);

    // (b) catalog page
    const b = await load(requests, concurrency, () => fetch(`${base}/catalog`, { headers: { cookie } }));
    log(`(b) GET /catalog (signed in), ${requests} requests, ${concurrency} concurrent: p50 ${b.p50.toFixed(1)} ms, p95 ${b.p95.toFixed(1)} ms, ${b.rps.toFixed(0)} req/s, statuses ${JSON.stringify(b.statuses)}`);

    // (c) delivery throughput
    const t0 = performance.now();
    await load(orderCount, concurrency, (i) =>
      fetch(`${base}/api/v1/orders`, { method: "POST", headers: auth, body: JSON.stringify({ image: "linux-test", flavor: "small", name: `bench-c-${i}` }) }),
    );
    const drained = await drain(db, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    // Phase (c)'s own orders only: (a) placed orders of its own.
    const counts = await db.query(`select status, count(*)::int as n from orders where name like 'bench-c-%' group by status`);
    const count = (status) => counts.rows.find((r) => r.status === status)?.n ?? 0;
    const ready = count("ready");
    const failed = count("failed");
    const perMinute = (ready / seconds) * 60;
    log(`(c) ${ready} of ${orderCount} orders delivered in ${seconds.toFixed(1)} s: ${perMinute.toFixed(0)} orders/min (${failed} failed${drained ? "" : ", timed out waiting"})`);

    const raw = await rawBullmq(Math.max(2000, orderCount * 10));
    log(`(c) raw BullMQ no-op jobs on the same Redis, concurrency ${workerConcurrency}: ${raw.jobs} jobs in ${raw.seconds.toFixed(1)} s = ${raw.perMinute.toFixed(0)} jobs/min`);
    log(`(c) ratio raw no-op jobs / delivered orders: ${(raw.perMinute / perMinute).toFixed(1)}× (each order is one job running 11 persisted steps with logs and live events)`);
  } finally {
    await db.end().catch(() => {});
    server.kill("SIGTERM");
    if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once("exit", r));
    await deleteRedisKeys(redisUrl, prefix);
    await dropDatabase(adminUrl, dbName);
  }
}

/** Waits until no order is queued or provisioning; false on timeout. */
async function drain(db, timeoutMs) {
  return waitFor(async () => Number((await db.query(`select count(*) from orders where status in ('queued', 'provisioning')`)).rows[0].count) === 0, {
    timeoutMs,
    intervalMs: 200,
  });
}

async function rawBullmq(jobs) {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const name = "raw-noop";
  const queue = new Queue(name, { connection, prefix });
  let done = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const worker = new Worker(
    name,
    async () => {
      if (++done === jobs) finish();
    },
    { connection, prefix, concurrency: workerConcurrency, autorun: false },
  );
  for (let i = 0; i < jobs; i += 500) {
    await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({ name: "noop", data: { i: i + k }, opts: { removeOnComplete: true } })));
  }
  const t0 = performance.now();
  void worker.run();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobs, seconds, perMinute: (jobs / seconds) * 60 };
}

// `npm run bench -- qemu`: real QEMU guests (scripts/bench-qemu.ts): raw boot vs. order to
// ready through the portal, and live migration time and downtime.
if (process.argv[2] === "qemu") {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "bench-qemu.ts")], { cwd: root, stdio: "inherit" });
  child.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (process.argv[2] === "xen") {
  // `npm run bench -- xen`: a real Xen 4.17 host under QEMU (scripts/bench-xen.ts): dom0 boot,
  // raw lvcreate + xl create against an order to ready, each step's time.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "bench-xen.ts")], { cwd: root, stdio: "inherit" });
  child.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (process.argv[2] === "scale-out") {
  // `npm run bench -- scale-out`: 2 web + 3 worker processes against 1 + 1 (scripts/bench-scale-out.mjs).
  await import("./bench-scale-out.mjs");
} else if (process.argv[2] === "scale") {
  // `npm run bench -- scale`: a database of 100,000 orders (scripts/bench-scale.mjs).
  await import("./bench-scale.mjs");
} else {
  main().catch((err) => {
    console.error(`[bench] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
