// `npm run bench -- scale`: is the portal fast when its database is large?
// 1. Starts a PostgreSQL cluster of its own (initdb + pg_ctl, pg_stat_statements loaded) under
//    .data/bench-scale-<pid>/ on BENCH_PG_PORT (5499), and uses the shared Redis under a key
//    prefix of its own. Removes both at the end, also on failure or Ctrl+C.
// 2. Starts the built portal on the empty database (it migrates and seeds), and measures orders
//    delivered per minute (sim driver, zero step time, web with the embedded worker as
//    `npm start` runs it).
// 3. Fills the database with set-based SQL (scripts/bench-scale-fill.mjs): at BENCH_SCALE=1,
//    100,000 orders, ~1.3 M steps, ~3 M log lines, 200,000 audit events (about 2 GB).
// 4. Restarts the portal as web only (no embedded worker, so nothing else touches the database)
//    and measures, for every list route and page: the SQL statements one request makes
//    (pg_stat_statements), and p50/p95 at 1 and at 20 concurrent clients, against GET
//    /api/health measured in the same run, and the portal's CPU time per request at 20 clients
//    (from /proc) against health's. A request is abandoned after 60 s; a route stops taking new
//    requests after its time budget. Requests go to 127.0.0.1 only.
// 5. Restarts the portal with the embedded worker and measures delivery on the big database.
// Prints a table (rows that miss the goal, p95@20 within 3x of health's p95@20, are marked)
// and writes it to .data/bench-scale.json for before/after comparisons.
// Options (environment): BENCH_SCALE (1; 0.1 for a quick run), BENCH_PORT (3240),
// BENCH_PG_PORT (5499), BENCH_ORDERS (orders per delivery phase, 100),
// BENCH_DELIVERY_TIMEOUT_S (180), BENCH_ONLY (comma-separated route names to measure; the part
// in brackets may be left out).
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, chownSync, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createApiToken, deleteRedisKeys, ensureBuild, isRoot, nextStartArgs, portOpen, signIn, waitFor } from "./lib.mjs";
import { fillStatements } from "./bench-scale-fill.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scale = Number(process.env.BENCH_SCALE || 1);
const port = Number(process.env.BENCH_PORT || 3240);
const pgPort = Number(process.env.BENCH_PG_PORT || 5499);
const deliveryOrders = Number(process.env.BENCH_ORDERS || 100);
const deliveryTimeoutMs = Number(process.env.BENCH_DELIVERY_TIMEOUT_S || 180) * 1000;
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((s) => s.trim())) : null;
const pgBin = "/usr/lib/postgresql/15/bin";
const base = `http://127.0.0.1:${port}`;
const dir = path.join(root, ".data", `bench-scale-${process.pid}`);
const pgData = path.join(dir, "pg");
const dbUrl = `postgres://postgres@127.0.0.1:${pgPort}/portal`;
const redisUrl = "redis://127.0.0.1:6379";
const prefix = `benchscale_${process.pid}`;
const password = "bench-admin-password";
const secret = "bench-scale-secret-bench-scale-secret";
const resultFile = path.join(root, ".data", "bench-scale.json");

/** Requests per route: at most this many, within this budget (ms), each abandoned after REQUEST_TIMEOUT_MS. */
const SINGLE = { clients: 1, requests: 20, budgetMs: 15_000 };
const CONCURRENT = { clients: 20, requests: 100, budgetMs: 20_000 };
const HEALTH_SINGLE = { clients: 1, requests: 100, budgetMs: 20_000 };
const HEALTH_CONCURRENT = { clients: 20, requests: 400, budgetMs: 30_000 };
const HEALTH_BESIDE = { clients: 20, requests: 200, budgetMs: 10_000 };
const REQUEST_TIMEOUT_MS = 60_000;
const GOAL_RATIO = 3;

function log(line) {
  console.log(`[bench-scale] ${line}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The cluster

function postgresIds() {
  const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("running as root, initdb needs the user postgres, which does not exist");
  return { uid, gid };
}

/** Runs a PostgreSQL program (as the user postgres when we are root: initdb refuses root). */
function pgRun(program, args) {
  const cmd = isRoot ? "runuser" : path.join(pgBin, program);
  const full = isRoot ? ["-u", "postgres", "--", path.join(pgBin, program), ...args] : args;
  const r = spawnSync(cmd, full, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${program} failed: ${(r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" / ")}`);
}

let clusterUp = false;

async function startCluster() {
  if (await portOpen("127.0.0.1", pgPort, 300)) throw new Error(`port ${pgPort} is in use; set BENCH_PG_PORT`);
  mkdirSync(dir, { recursive: true });
  if (isRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  pgRun("initdb", ["-D", pgData, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
  appendFileSync(
    path.join(pgData, "postgresql.conf"),
    [
      "",
      "# bench-scale",
      `port = ${pgPort}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "shared_preload_libraries = 'pg_stat_statements'",
      "pg_stat_statements.track = top",
      "shared_buffers = 512MB",
      "max_wal_size = 8GB",
      "checkpoint_timeout = 30min",
      "",
    ].join("\n"),
  );
  pgRun("pg_ctl", ["-D", pgData, "-l", path.join(dir, "postgres.log"), "-w", "-t", "60", "start"]);
  clusterUp = true;
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${pgPort}/postgres` });
  await admin.connect();
  await admin.query("create database portal");
  await admin.end();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await c.query("create extension pg_stat_statements");
  await c.end();
}

function stopCluster() {
  if (clusterUp) {
    try {
      pgRun("pg_ctl", ["-D", pgData, "-m", "fast", "-w", "stop"]);
    } catch (err) {
      console.error(`[bench-scale] ${err.message}`);
    }
    clusterUp = false;
  }
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The portal

let portal = null;

async function startPortal({ worker }) {
  if (await portOpen("127.0.0.1", port, 300)) throw new Error(`port ${port} is in use; set BENCH_PORT`);
  const logFile = path.join(dir, "portal.log");
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, nextStartArgs(root, port, "127.0.0.1"), {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      DATA_DIR: path.join(dir, "portal"),
      PORTAL_EMBEDDED_WORKER: worker ? "1" : "0",
      WORKER_CONCURRENCY: "8",
      SIM_STEP_MS: "0",
      ADMIN_PASSWORD: password,
      AUTH_SECRET: secret,
      NEXTAUTH_URL: base,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  portal = child;
  const up = await waitFor(async () => child.exitCode === null && (await fetch(`${base}/api/health`).catch(() => null))?.status === 200, {
    timeoutMs: 180_000,
    intervalMs: 300,
  });
  if (!up) throw new Error(`the portal did not become healthy within three minutes; its output: ${tail(logFile)}`);
  return child;
}

function tail(file, lines = 8) {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n  ");
  } catch {
    return "(no output)";
  }
}

async function stopPortal() {
  const child = portal;
  portal = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const done = await Promise.race([child.exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!done) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

function portalAlive() {
  return portal && portal.exitCode === null && portal.signalCode === null;
}

// ---------------------------------------------------------------------------------------------
// Load

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Up to `requests` GETs of `url` from `clients` concurrent loops, no new one after `budgetMs`;
 * each is abandoned after REQUEST_TIMEOUT_MS and then counts as that long (a lower bound).
 */
async function load(url, headers, { clients, requests, budgetMs }) {
  const latencies = [];
  const statuses = {};
  let issued = 0;
  let timeouts = 0;
  const deadline = performance.now() + budgetMs;
  const loop = async () => {
    while (issued < requests && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      let status;
      try {
        const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await res.arrayBuffer();
        status = String(res.status);
      } catch (err) {
        const timedOut = err?.name === "TimeoutError" || err?.name === "AbortError";
        if (timedOut) timeouts++;
        status = timedOut ? "timeout" : "error";
      }
      latencies.push(status === "timeout" ? REQUEST_TIMEOUT_MS : performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  latencies.sort((a, b) => a - b);
  return { n: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95), timeouts, cut: issued < requests, statuses };
}

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/** CPU time (ms, user + system) the portal's process has used so far; null without /proc (not Linux). */
function portalCpuMs() {
  try {
    const stat = readFileSync(`/proc/${portal.pid}/stat`, "utf8");
    // After "(comm)": state, ppid, ... utime and stime are the 12th and 13th fields.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1000;
  } catch {
    return null;
  }
}

/**
 * load(), and the portal's CPU time per request meanwhile (cpuMs): what latency at 20 clients
 * grows with on a busy machine, and far less disturbed by other programs than latency is.
 */
async function loadCounted(url, headers, opts) {
  const c0 = portalCpuMs();
  const r = await load(url, headers, opts);
  const c1 = portalCpuMs();
  r.cpuMs = c0 === null || c1 === null || r.n === 0 ? null : (c1 - c0) / r.n;
  return r;
}

/** Statements the portal is running now (ours excluded). */
async function activeStatements(db) {
  const { rows } = await db.query(
    `select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and state <> 'idle' and pid <> pg_backend_pid()`,
  );
  return rows[0].n;
}

/**
 * After a heavy route: until the database is idle and health answers quickly again (abandoned
 * requests may still be working on the server). At most two minutes; false if it was not.
 */
async function settle(db, healthP50) {
  const fastEnough = Math.max(50, healthP50 * 5);
  let fastInARow = 0;
  return waitFor(
    async () => {
      if (!portalAlive()) return true;
      if ((await activeStatements(db)) > 0) {
        fastInARow = 0;
        return false;
      }
      const t0 = performance.now();
      const ok = (await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.status === 200;
      fastInARow = ok && performance.now() - t0 < fastEnough ? fastInARow + 1 : 0;
      return fastInARow >= 3;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/** SQL statements one request makes: reset the counters, one request, sum of calls (ours excluded). */
async function statementsOf(db, url, headers) {
  await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then((r) => r.arrayBuffer()).catch(() => {});
  // Nothing else may run meanwhile: wait for the database to be idle.
  await waitFor(async () => (await activeStatements(db)) === 0, { timeoutMs: 180_000, intervalMs: 200 });
  await db.query("select pg_stat_statements_reset()");
  let status;
  let bytes = null;
  try {
    const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    bytes = (await res.arrayBuffer()).byteLength;
    status = res.status;
  } catch {
    status = "timeout";
  }
  await sleep(200);
  const { rows } = await db.query(
    `select coalesce(sum(calls), 0)::int as n from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database()) and query not ilike '%pg_stat_statements%'`,
  );
  return { statements: rows[0].n, status, bytes };
}

// ---------------------------------------------------------------------------------------------
// Delivery

/** Submits `count` orders named `${label}-<i>` and waits for them; orders delivered per minute. */
async function delivery(db, token, label, count) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const t0 = performance.now();
  let next = 0;
  const refused = {};
  const submit = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${base}/api/v1/orders`, { method: "POST", headers, body: JSON.stringify({ image: "linux-test", flavor: "small", name: `${label}-${i}` }) }).catch(
        () => null,
      );
      if (res?.status !== 201) refused[res?.status ?? "error"] = (refused[res?.status ?? "error"] ?? 0) + 1;
      await res?.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 10 }, submit));
  const submitSeconds = (performance.now() - t0) / 1000;
  const finished = await waitFor(
    async () =>
      Number((await db.query(`select count(*)::int as n from orders where name like $1 and status in ('submitted', 'approved', 'queued', 'provisioning')`, [`${label}-%`])).rows[0].n) === 0,
    { timeoutMs: deliveryTimeoutMs, intervalMs: 500 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const { rows } = await db.query(
    `select count(*) filter (where status = 'ready')::int as ready, count(*) filter (where status = 'failed')::int as failed,
            percentile_cont(0.5) within group (order by extract(epoch from ready_at - created_at)) filter (where ready_at is not null) as median_s
     from orders where name like $1`,
    [`${label}-%`],
  );
  const r = rows[0];
  return {
    orders: count,
    ready: r.ready,
    failed: r.failed,
    refused,
    seconds: Math.round(seconds * 10) / 10,
    submitSeconds: Math.round(submitSeconds * 10) / 10,
    perMinute: Math.round((r.ready / seconds) * 60 * 10) / 10,
    medianToReadyS: r.median_s === null ? null : Math.round(Number(r.median_s) * 10) / 10,
    timedOut: !finished,
  };
}

// ---------------------------------------------------------------------------------------------
// Routes

/** Every list route and page; `as` says who asks (admin or the approver of the held orders). */
function routes(ids) {
  const api = (name, p, as = "admin") => ({ name, path: p, kind: "api", as });
  const page = (name, p, as = "admin", expect = "200") => ({ name, path: p, kind: "page", as, expect });
  return [
    api("GET /api/v1/orders (mine)", "/api/v1/orders?scope=mine"),
    api("GET /api/v1/orders?scope=all", "/api/v1/orders?scope=all"),
    api("GET /api/v1/orders?scope=approvals (approver)", "/api/v1/orders?scope=approvals", "approver"),
    api("GET /api/v1/orders/:id", `/api/v1/orders/${ids.order}`),
    api("GET /api/v1/orders/:id/estimate", `/api/v1/orders/${ids.order}/estimate`),
    api("GET /api/v1/audit", "/api/v1/audit"),
    api("GET /api/v1/hosts", "/api/v1/hosts"),
    api("GET /api/v1/delivery", "/api/v1/delivery"),
    api("GET /api/v1/delivery?range=90d", "/api/v1/delivery?range=90d"),
    api("GET /api/v1/catalog", "/api/v1/catalog"),
    api("GET /api/v1/users", "/api/v1/users"),
    api("GET /api/v1/groups", "/api/v1/groups"),
    api("GET /api/v1/policies", "/api/v1/policies"),
    api("GET /api/v1/notifications", "/api/v1/notifications"),
    api("GET /api/v1/leases/requests (approver)", "/api/v1/leases/requests", "approver"),
    page("page /orders", "/orders"),
    page("page /orders/:id", `/orders/${ids.order}`),
    page("page /orders/new", "/orders/new"),
    page("page /approvals (approver; 200 held)", "/approvals", "approver"),
    page("page /catalog", "/catalog"),
    page("page /notifications", "/notifications"),
    page("page /admin/users", "/admin/users"),
    page("page /admin/hosts", "/admin/hosts"),
    page("page /admin/networks", "/admin/networks"),
    page("page /admin/images", "/admin/images"),
    page("page /admin/groups", "/admin/groups"),
    page("page /admin/policies", "/admin/policies"),
    page("page /admin/audit", "/admin/audit"),
    page("page /admin/dashboard (delivery)", "/admin/dashboard"),
    // The floor of any signed-in page: session, layout and navigation, a not-found body, no data.
    page("page floor: layout only (a missing order, 404)", "/orders/00000000-0000-4000-8000-000000000000", "admin", "404"),
    // Last: on a database this size it may take the server down.
    api("GET /api/v1/leases", "/api/v1/leases"),
  ];
}

// ---------------------------------------------------------------------------------------------

function fmtMs(v) {
  if (!Number.isFinite(v)) return "-";
  return v >= REQUEST_TIMEOUT_MS ? `>${REQUEST_TIMEOUT_MS / 1000} s` : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v < 100 ? 1 : 0)}`;
}

function table(result) {
  const h = result.health;
  const head = ["route", "p50@1", "p95@1", "p50@20", "p95@20", "health p95@20", "÷health", "CPU", "health CPU", "÷health", "stmts", "KB", "notes"];
  const cpu = (v) => (Number.isFinite(v) ? v.toFixed(1) : "-");
  const rows = [
    ["GET /api/health", fmtMs(h.single.p50), fmtMs(h.single.p95), fmtMs(h.concurrent.p50), fmtMs(h.concurrent.p95), fmtMs(h.concurrent.p95), "1.0", cpu(h.concurrent.cpuMs), cpu(h.concurrent.cpuMs), "1.0", String(h.statements ?? "-"), "-", ""],
  ];
  for (const r of result.routes) {
    const notes = [];
    if (r.miss) notes.push("MISS");
    if (r.crashed) notes.push("server crashed");
    const t = (r.single?.timeouts ?? 0) + (r.concurrent?.timeouts ?? 0);
    if (t) notes.push(`${t} timed out`);
    if (r.concurrent?.cut || r.single?.cut) notes.push(`cut: ${r.single?.n ?? 0}+${r.concurrent?.n ?? 0} requests`);
    if (r.settled === false) notes.push("server still busy 2 min after");
    const bad = Object.keys({ ...r.single?.statuses, ...r.concurrent?.statuses }).filter((s) => s !== (r.expect ?? "200") && s !== "timeout");
    if (bad.length) notes.push(`status ${bad.join(",")}`);
    rows.push([
      r.name,
      fmtMs(r.single?.p50),
      fmtMs(r.single?.p95),
      fmtMs(r.concurrent?.p50),
      fmtMs(r.concurrent?.p95),
      fmtMs(r.health?.p95),
      Number.isFinite(r.ratio) ? r.ratio.toFixed(1) : "-",
      cpu(r.concurrent?.cpuMs),
      cpu(r.health?.cpuMs),
      Number.isFinite(r.cpuRatio) ? r.cpuRatio.toFixed(1) : "-",
      String(r.statements ?? "-"),
      r.bytes == null ? "-" : (r.bytes / 1024).toFixed(r.bytes < 10_240 ? 1 : 0),
      notes.join("; "),
    ]);
  }
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main() {
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) throw new Error(`BENCH_SCALE must be a number above 0 and at most 10 (got "${process.env.BENCH_SCALE}")`);
  const started = performance.now();
  const cpus = os.cpus();
  log(`scale ${scale}; machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  if (!(await ensureBuild(root))) throw new Error("the build failed");
  await startCluster();
  log(`PostgreSQL 15 cluster in ${path.relative(root, dir)} on port ${pgPort}; Redis prefix ${prefix}`);
  const db = new pg.Client({ connectionString: dbUrl });
  // Ctrl+C stops the cluster under this connection: that is not an error worth a crash.
  db.on("error", (err) => console.error(`[bench-scale] database connection: ${err.message}`));
  const result = { scale, startedAt: new Date().toISOString(), commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim() };
  try {
    // Empty database: migrate, seed, delivery with the embedded worker.
    await startPortal({ worker: true });
    await db.connect();
    await db.query(`update networks set cidr = case purpose when 'service' then '10.20.0.0/16' else '10.30.0.0/16' end`);
    await db.query(`update hosts set cpu_capacity = 2048, memory_mb_capacity = 4194304, disk_gb_capacity = 1000000 where kind = 'sim'`);
    const adminCookie = await signIn(base, "admin@portal.local", password);
    const adminToken = await createApiToken(base, adminCookie, "bench");
    log(`delivery on the empty database: ${deliveryOrders} orders ...`);
    result.deliveryEmpty = await delivery(db, adminToken, "bench-empty", deliveryOrders);
    log(`delivery on the empty database: ${JSON.stringify(result.deliveryEmpty)}`);
    await stopPortal();

    // Fill.
    const t0 = performance.now();
    for (const [label, sql] of fillStatements(scale)) {
      const s0 = performance.now();
      await db.query(sql);
      log(`fill: ${label} (${((performance.now() - s0) / 1000).toFixed(1)} s)`);
    }
    const fillSeconds = (performance.now() - t0) / 1000;
    const counts = (
      await db.query(`select (select count(*) from orders)::int as orders, (select count(*) from pipeline_steps)::int as steps,
        (select count(*) from step_logs)::int as step_logs, (select count(*) from audit_events)::int as audit_events,
        (select count(*) from environments e join orders o on o.id = e.order_id where o.status in ('ready', 'expiring'))::int as live_environments,
        (select count(*) from ip_allocations)::int as addresses, (select count(*) from users)::int as users, (select count(*) from hosts)::int as hosts,
        (select count(*) from orders where status = 'pending_approval')::int as held,
        pg_database_size(current_database())::bigint as bytes`)
    ).rows[0];
    result.fill = { seconds: Math.round(fillSeconds), ...counts, bytes: Number(counts.bytes) };
    log(`filled in ${fillSeconds.toFixed(0)} s: ${JSON.stringify(result.fill)}; database size ${(Number(counts.bytes) / 2 ** 30).toFixed(2)} GiB`);

    // Web only: measure.
    await startPortal({ worker: false });
    const approverCookie = await signIn(base, "approver-01@bench.local", password);
    const approverToken = await createApiToken(base, approverCookie, "bench");
    const order = (await db.query(`select id from orders where status = 'ready' and name like 'env-%' order by created_at desc limit 1`)).rows[0].id;
    const auth = {
      admin: { api: { authorization: `Bearer ${adminToken}` }, page: { cookie: adminCookie } },
      approver: { api: { authorization: `Bearer ${approverToken}` }, page: { cookie: approverCookie } },
    };
    log("measuring GET /api/health ...");
    result.health = {
      statements: (await statementsOf(db, `${base}/api/health`, {})).statements,
      single: await load(`${base}/api/health`, {}, HEALTH_SINGLE),
      concurrent: await loadCounted(`${base}/api/health`, {}, HEALTH_CONCURRENT),
    };
    log(`health: p50/p95 ${fmtMs(result.health.single.p50)}/${fmtMs(result.health.single.p95)} ms single, ${fmtMs(result.health.concurrent.p50)}/${fmtMs(result.health.concurrent.p95)} ms at 20`);
    // First the statements of one request of each route, on an idle server, before any load.
    // A route is picked by its whole name or by its name without the part in brackets
    // ("page /approvals", "GET /api/v1/orders?scope=approvals").
    const measured = routes({ order }).filter((route) => !only || only.has(route.name) || only.has(route.name.replace(/ \(.*\)$/, "")));
    const statementCounts = new Map();
    for (const route of measured) {
      const counted = await statementsOf(db, `${base}${route.path}`, auth[route.as][route.kind]);
      statementCounts.set(route.name, counted);
      log(`${route.name}: ${counted.statements} statements (HTTP ${counted.status}, ${counted.bytes ?? "-"} bytes)`);
    }
    result.routes = [];
    for (const route of measured) {
      const url = `${base}${route.path}`;
      const headers = auth[route.as][route.kind];
      const r = { name: route.name, path: route.path, as: route.as, expect: route.expect, statements: statementCounts.get(route.name).statements, countStatus: statementCounts.get(route.name).status, bytes: statementCounts.get(route.name).bytes };
      const s0 = performance.now();
      try {
        await settle(db, result.health.single.p50);
        // Health at 20 right before the route: the reference for its ratio, so that load from
        // elsewhere on the machine, which drifts during a long run, affects both alike.
        r.health = await loadCounted(`${base}/api/health`, {}, HEALTH_BESIDE);
        r.single = await load(url, headers, SINGLE);
        await settle(db, result.health.single.p50);
        r.concurrent = await loadCounted(url, headers, CONCURRENT);
      } catch (err) {
        r.error = err instanceof Error ? err.message : String(err);
      }
      r.settled = await settle(db, result.health.single.p50);
      if (!portalAlive()) {
        r.crashed = true;
        log(`${route.name}: the portal died (${tail(path.join(dir, "portal.log"), 3)}); starting it again`);
        await stopPortal();
        await startPortal({ worker: false });
      }
      r.ratio = r.concurrent && r.health ? r.concurrent.p95 / r.health.p95 : NaN;
      r.cpuRatio = r.concurrent?.cpuMs && r.health?.cpuMs ? r.concurrent.cpuMs / r.health.cpuMs : NaN;
      r.miss = !(r.ratio <= GOAL_RATIO) || Boolean(r.crashed);
      r.seconds = Math.round((performance.now() - s0) / 1000);
      result.routes.push(r);
      log(
        `${route.name}: ${r.statements} statements; p50/p95 ${fmtMs(r.single?.p50)}/${fmtMs(r.single?.p95)} single (${r.single?.n}), ` +
          `${fmtMs(r.concurrent?.p50)}/${fmtMs(r.concurrent?.p95)} at 20 (${r.concurrent?.n}); ${JSON.stringify({ ...r.single?.statuses, ...r.concurrent?.statuses })} in ${r.seconds} s`,
      );
    }
    result.healthAfter = { single: await load(`${base}/api/health`, {}, HEALTH_SINGLE), concurrent: await load(`${base}/api/health`, {}, HEALTH_CONCURRENT) };
    await stopPortal();

    // Big database: delivery with the embedded worker.
    await startPortal({ worker: true });
    log(`delivery on the big database: ${deliveryOrders} orders ...`);
    result.deliveryBig = await delivery(db, adminToken, "bench-big", deliveryOrders);
    log(`delivery on the big database: ${JSON.stringify(result.deliveryBig)}`);
    await stopPortal();
  } finally {
    await db.end().catch(() => {});
    await stopPortal().catch(() => {});
    stopCluster();
    await deleteRedisKeys(redisUrl, prefix).catch(() => {});
  }
  result.minutes = Math.round((performance.now() - started) / 6000) / 10;

  const f = result.fill;
  console.log("");
  console.log(
    `Scale ${scale}: ${f.orders.toLocaleString("en")} orders, ${f.live_environments.toLocaleString("en")} live environments, ${f.steps.toLocaleString("en")} steps, ` +
      `${f.step_logs.toLocaleString("en")} log lines, ${f.audit_events.toLocaleString("en")} audit events; ${(f.bytes / 2 ** 30).toFixed(2)} GiB, filled in ${f.seconds} s. ` +
      `Web only (no embedded worker) on 127.0.0.1; times in ms, KB the body of one answer; ${SINGLE.requests} requests single and ${CONCURRENT.requests} at 20 at most ` +
      `(${SINGLE.budgetMs / 1000} s / ${CONCURRENT.budgetMs / 1000} s budget, abandoned after ${REQUEST_TIMEOUT_MS / 1000} s). ` +
      `MISS: p95@20 above ${GOAL_RATIO}× the p95@20 of health measured just before the route. ` +
      `CPU: the portal's CPU time (ms, user + system) per request at 20 clients, health's just before, and their ratio.`,
  );
  console.log("");
  console.log(table(result));
  console.log("");
  const ha = result.healthAfter;
  console.log(`health again at the end: p50/p95 ${fmtMs(ha.single.p50)}/${fmtMs(ha.single.p95)} single, ${fmtMs(ha.concurrent.p50)}/${fmtMs(ha.concurrent.p95)} at 20`);
  const d = (x) => `${x.ready}/${x.orders} ready in ${x.seconds} s = ${x.perMinute} orders/min (median order to ready ${x.medianToReadyS} s${x.failed ? `, ${x.failed} failed` : ""}${x.timedOut ? ", stopped waiting" : ""})`;
  console.log(`delivery, empty database: ${d(result.deliveryEmpty)}`);
  console.log(`delivery, big database:   ${d(result.deliveryBig)}`);
  console.log(`whole bench: ${result.minutes} min`);
  mkdirSync(path.dirname(resultFile), { recursive: true });
  writeFileSync(resultFile, JSON.stringify(result, null, 2));
  console.log(`written to ${path.relative(root, resultFile)}`);
}

let cleaningUp = false;
function onSignal(signal) {
  if (cleaningUp) return;
  cleaningUp = true;
  console.error(`[bench-scale] ${signal}: stopping the portal and removing the cluster`);
  if (portal) portal.kill("SIGKILL");
  stopCluster();
  deleteRedisKeys(redisUrl, prefix)
    .catch(() => {})
    .finally(() => process.exit(130));
}
process.once("SIGINT", () => onSignal("SIGINT"));
process.once("SIGTERM", () => onSignal("SIGTERM"));

main().catch((err) => {
  console.error(`[bench-scale] ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
});
