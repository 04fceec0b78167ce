// `npm run bench -- scale-out`: several machines, measured on one. Against one PostgreSQL
// database and one Redis prefix of its own (both removed at the end), with the built portal:
//   1. one web process (`next start`, no embedded worker) and one worker (`npm run worker`):
//      BENCH_ORDERS orders submitted through the web, orders delivered per minute;
//   2. two web processes and three workers, each process with its own DATA_DIR, one worker
//      (bench-a) owning sim-1 as it would own a machine's local QEMU hosts: the same number of
//      orders submitted through both webs in turn; orders per minute, and each worker's share
//      of the steps. Orders placed on sim-1 must run their host steps on bench-a only: the
//      bench checks it and says so.
// Sim hosts at BENCH_STEP_MS (default 40 ms) per step: on a small machine real QEMU guests
// would measure the guests, not the portal. Bounded: each phase gives up after
// BENCH_DELIVERY_TIMEOUT_S (180). Ports BENCH_PORT and BENCH_PORT+1 (3420, 3421).
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createApiToken, deleteRedisKeys, dropDatabase, ensureBuild, freshDatabase, nextBin, portOpen, signIn, waitFor } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.BENCH_PORT || 3420);
const orderCount = Number(process.env.BENCH_ORDERS || 120);
const stepMs = Number(process.env.BENCH_STEP_MS || 40);
const timeoutMs = Number(process.env.BENCH_DELIVERY_TIMEOUT_S || 180) * 1000;
const adminUrl = process.env.BENCH_PG_ADMIN_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const dbName = "portal_bench_scale_out";
const prefix = `bench_so_${process.pid}`;
const password = "bench-admin-password";
const dataRoot = path.join(os.tmpdir(), `portal-bench-scale-out-${process.pid}`);
const OWNER = "bench-a";

const log = (line) => console.log(`[bench scale-out] ${line}`);
const processes = [];

/** Starts one portal process (web or worker) with its own DATA_DIR; its output goes to ours on failure only. */
function startProcess(name, args, env) {
  const dataDir = path.join(dataRoot, name);
  mkdirSync(dataDir, { recursive: true });
  let output = "";
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...common, ...env, DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const s of [child.stdout, child.stderr]) s.on("data", (c) => (output = (output + c.toString()).slice(-20_000)));
  const proc = { name, child, output: () => output };
  processes.push(proc);
  return proc;
}

let common = {};

function startWeb(n) {
  const p = port + n;
  const web = startProcess(`web-${n + 1}`, [nextBin(root), "start", "-p", String(p), "-H", "127.0.0.1"], { NODE_ENV: "production", PORTAL_EMBEDDED_WORKER: "0", NEXTAUTH_URL: `http://127.0.0.1:${p}` });
  return { ...web, base: `http://127.0.0.1:${p}` };
}

function startWorker(id) {
  return startProcess(id, ["--import", "tsx", "workers/index.ts"], { WORKER_ID: id });
}

async function untilHealthy(web) {
  if (!(await waitFor(async () => (await fetch(`${web.base}/api/health`).catch(() => null))?.status === 200, { timeoutMs: 120_000, intervalMs: 300 }))) {
    throw new Error(`${web.name} did not become healthy:\n${web.output()}`);
  }
}

async function untilWorking(worker) {
  if (!(await waitFor(async () => worker.output().includes("[worker] processing"), { timeoutMs: 60_000, intervalMs: 200 }))) {
    throw new Error(`${worker.name} did not start:\n${worker.output()}`);
  }
}

/** Submits `count` orders named `<tag>-<i>` through the webs in turn, 20 at a time; returns orders/min from first submit to last ready. */
async function deliver(db, tag, webs) {
  const t0 = performance.now();
  let next = 0;
  const submit = async () => {
    while (next < orderCount) {
      const i = next++;
      const web = webs[i % webs.length];
      const res = await fetch(`${web.base}/api/v1/orders`, { method: "POST", headers: web.auth, body: JSON.stringify({ image: "linux-test", flavor: "small", name: `${tag}-${i}` }) });
      if (res.status !== 201) throw new Error(`order ${tag}-${i} through ${web.name}: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, submit));
  const done = await waitFor(
    async () => Number((await db.query(`select count(*) from orders where name like $1 and status in ('queued', 'provisioning')`, [`${tag}-%`])).rows[0].count) === 0,
    { timeoutMs, intervalMs: 250 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const counts = Object.fromEntries((await db.query(`select status, count(*)::int as n from orders where name like $1 group by status`, [`${tag}-%`])).rows.map((r) => [r.status, r.n]));
  const ready = counts.ready ?? 0;
  return { ready, failed: counts.failed ?? 0, seconds, perMinute: (ready / seconds) * 60, timedOut: !done };
}

/** Steps of `tag`'s orders by worker, and whether any host step of an order on `OWNER`'s host ran elsewhere. */
async function shares(db, tag) {
  const byWorker = (
    await db.query(
      `select s.worker_id as worker, count(*)::int as steps, count(distinct r.id)::int as runs
         from pipeline_steps s join pipeline_runs r on r.id = s.run_id join orders o on o.id = r.order_id
        where o.name like $1 and s.worker_id is not null group by s.worker_id order by s.worker_id`,
      [`${tag}-%`],
    )
  ).rows;
  const strays = Number(
    (
      await db.query(
        `select count(*) from pipeline_steps s join pipeline_runs r on r.id = s.run_id join orders o on o.id = r.order_id
           join environments e on e.order_id = o.id join hosts h on h.id = e.host_id
          where o.name like $1 and h.owner_worker = $2 and s.name not in ('place', 'allocate') and s.worker_id <> $2`,
        [`${tag}-%`, OWNER],
      )
    ).rows[0].count,
  );
  const onOwned = Number(
    (await db.query(`select count(*) from orders o join environments e on e.order_id = o.id join hosts h on h.id = e.host_id where o.name like $1 and h.owner_worker = $2`, [`${tag}-%`, OWNER])).rows[0].count,
  );
  return { byWorker, strays, onOwned };
}

async function withAuth(web) {
  const cookie = await signIn(web.base, "admin@portal.local", password);
  const token = await createApiToken(web.base, cookie, `bench ${web.name}`);
  return { ...web, auth: { authorization: `Bearer ${token}`, "content-type": "application/json" } };
}

async function main() {
  for (const p of [port, port + 1]) if (await portOpen("127.0.0.1", p, 300)) throw new Error(`port ${p} is in use; set BENCH_PORT`);
  if (!(await ensureBuild(root))) throw new Error("the build failed");
  const dbUrl = await freshDatabase(adminUrl, dbName);
  common = {
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    // Every web process signs sessions with the same secret: a session is valid on all of them.
    AUTH_SECRET: "bench-scale-out-secret-bench-scale-out",
    ADMIN_PASSWORD: password,
    SIM_STEP_MS: String(stepMs),
    WORKER_CONCURRENCY: "8",
    RECONCILE_INTERVAL_MS: "5000",
  };
  const db = new pg.Client({ connectionString: dbUrl });
  try {
    // 1. One web, one worker.
    const web1 = startWeb(0);
    await untilHealthy(web1);
    await db.connect();
    // Room for every order: wide networks, big sim hosts, and a third sim host.
    await db.query(`update networks set cidr = case purpose when 'service' then '10.20.0.0/16' else '10.30.0.0/16' end`);
    await db.query(`insert into hosts (name, kind, address, state, cpu_capacity, memory_mb_capacity, disk_gb_capacity, features)
                    select 'sim-3', kind, 'sim://sim-3', state, cpu_capacity, memory_mb_capacity, disk_gb_capacity, features from hosts where name = 'sim-1'`);
    await db.query(`update hosts set cpu_capacity = 1000000, memory_mb_capacity = 1000000000, disk_gb_capacity = 100000000`);
    const workerB = startWorker("bench-b");
    await untilWorking(workerB);
    const webs1 = [await withAuth(web1)];
    const cpus = os.cpus();
    log(`machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, Node ${process.version}; sim hosts sim-1..3 at ${stepMs} ms a step; ${orderCount} orders a phase; worker concurrency 8`);
    const one = await deliver(db, "one", webs1);
    log(`1 web + 1 worker: ${one.ready} of ${orderCount} ready in ${one.seconds.toFixed(1)} s = ${one.perMinute.toFixed(0)} orders/min (${one.failed} failed${one.timedOut ? ", timed out" : ""})`);

    // 2. Two webs, three workers; bench-a owns sim-1 (as a machine owns its local QEMU hosts).
    await db.query(`update hosts set owner_worker = $1 where name = 'sim-1'`, [OWNER]);
    const web2 = startWeb(1);
    const workerA = startWorker(OWNER);
    const workerC = startWorker("bench-c");
    await Promise.all([untilHealthy(web2), untilWorking(workerA), untilWorking(workerC)]);
    const webs2 = [...webs1, await withAuth(web2)];
    const many = await deliver(db, "many", webs2);
    log(`2 web + 3 workers: ${many.ready} of ${orderCount} ready in ${many.seconds.toFixed(1)} s = ${many.perMinute.toFixed(0)} orders/min (${many.failed} failed${many.timedOut ? ", timed out" : ""})`);
    log(`speed-up: ${(many.perMinute / one.perMinute).toFixed(2)}× (all processes share this machine's ${cpus.length} cores, PostgreSQL and Redis)`);
    const s = await shares(db, "many");
    const total = s.byWorker.reduce((n, w) => n + w.steps, 0);
    for (const w of s.byWorker) log(`  worker ${w.worker}: ${w.steps} steps (${((w.steps / total) * 100).toFixed(0)}%) in ${w.runs} orders${w.worker === OWNER ? ", owner of sim-1" : ""}`);
    log(`  ${s.onOwned} orders placed on sim-1 (owned by ${OWNER}): ${s.strays === 0 ? "every host step ran on their owner" : `${s.strays} host steps ran elsewhere (routing broken)`}`);
    if (s.strays > 0 || one.timedOut || many.timedOut) process.exitCode = 1;
  } finally {
    await db.end().catch(() => {});
    for (const p of processes.reverse()) {
      p.child.kill("SIGTERM");
      if (p.child.exitCode === null && p.child.signalCode === null) await new Promise((r) => p.child.once("exit", r));
    }
    await deleteRedisKeys(redisUrl, prefix);
    await dropDatabase(adminUrl, dbName);
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`[bench scale-out] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
