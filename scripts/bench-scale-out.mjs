// `npm run bench -- scale-out`: several machines, measured on one. Against one PostgreSQL
// database and one Redis prefix of its own (both removed at the end), with the built portal:
//   1. one web process (`next start`, no embedded worker) and one worker (`npm run worker`,
//      bench-a): BENCH_ORDERS sim orders and BENCH_QEMU_ORDERS QEMU orders submitted through
//      the web; orders delivered per minute;
//   2. two web processes and three workers (bench-a, bench-b, bench-c), each process with its
//      own DATA_DIR: the same orders submitted through both webs in turn; orders per minute,
//      and each worker's share of the steps.
// bench-a owns this machine's two local QEMU hosts (qemu-1, qemu-2, registered by the web as
// `npm start` does, their work folders in bench-a's data folder): a QEMU order must run every
// host step on bench-a, and the bench checks it, prints each QEMU order's time to ready and
// fails when one is not ready or a host step ran elsewhere. The QEMU Linux images come from
// IMAGE_STORE_DIR (default .data/images, as `npm start`), built there first when missing or
// out of date. The guests of phase 1 are destroyed through the portal before phase 2, those
// of phase 2 at the end; whatever a failed run leaves (QEMU processes, the hosts' network
// namespaces and CPU cgroups, packed images, the data folders) is removed in any case.
// QEMU is used when /usr/bin/qemu-system-x86_64 exists (where the portal looks for it);
// BENCH_QEMU=0 leaves it out, BENCH_QEMU=1 fails without it. Without QEMU, bench-a owns sim-1
// instead, as it would own a machine's local QEMU hosts, and the same routing check applies.
// Sim hosts at BENCH_STEP_MS (default 40 ms) per step: real guests would measure the guests,
// not the portal, so only a few are ordered (BENCH_QEMU_ORDERS, default one per core, 2 to 4:
// each boots in TCG, and the two hosts hold four small guests).
// Bounded: each phase gives up after BENCH_DELIVERY_TIMEOUT_S (180), destroying the guests
// after 120 s, building the images after 10 min. Ports BENCH_PORT and BENCH_PORT+1 (3420, 3421).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createApiToken, databaseUrl, deleteRedisKeys, dropDatabase, ensureBuild, freshDatabase, nextStartArgs, portOpen, removeLocalQemu, signIn, waitFor } from "./lib.mjs";

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

/** Where the portal looks for QEMU (lib/db/seed.ts): without it, the web registers no QEMU hosts. */
const QEMU_BINARY = "/usr/bin/qemu-system-x86_64";
const QEMU_HOSTS = ["qemu-1", "qemu-2"];
const QEMU_IMAGE = "linux-qemu";
const imageStore = path.resolve(root, process.env.IMAGE_STORE_DIR || ".data/images");
const qemuOrderCount = Number(process.env.BENCH_QEMU_ORDERS || Math.min(4, Math.max(2, os.cpus().length)));
/** Like `npm start`'s hosts, in the owning worker's data folder. */
const qemuWorkDir = (host) => path.join(dataRoot, OWNER, "hosts", host);

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
  const web = startProcess(`web-${n + 1}`, nextStartArgs(root, p, "127.0.0.1"), { NODE_ENV: "production", PORTAL_EMBEDDED_WORKER: "0", NEXTAUTH_URL: `http://127.0.0.1:${p}` });
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

/** Whether the run uses QEMU: BENCH_QEMU=0 never, =1 always (failing without it), otherwise when installed. */
function qemuChoice() {
  if (process.env.BENCH_QEMU === "0") return { on: false, why: "BENCH_QEMU=0" };
  if (existsSync(QEMU_BINARY)) return { on: true };
  if (process.env.BENCH_QEMU === "1") throw new Error(`BENCH_QEMU=1 but ${QEMU_BINARY} is not installed (apt-get install -y qemu-system-x86)`);
  return { on: false, why: `${QEMU_BINARY} is not installed` };
}

/** Builds the QEMU images into the store, or finds them up to date (scripts/images-build.ts, as e2e/server.mjs does). */
function prepareImages() {
  const t = Date.now();
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/images-build.ts"], {
    cwd: root,
    env: { ...process.env, IMAGE_STORE_DIR: imageStore, DATA_DIR: path.join(dataRoot, OWNER) },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
  });
  if (built.status !== 0) throw new Error(`building the QEMU images in ${imageStore} failed${built.signal ? ` (${built.signal})` : ""}:\n${built.stdout}${built.stderr}`);
  log(`QEMU images ready in ${imageStore} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

/** The orders of a phase: the QEMU ones first (they take longest), then the sim ones. */
function phaseOrders(tag, qemu) {
  return [
    ...Array.from({ length: qemu ? qemuOrderCount : 0 }, (_, i) => ({ name: `${tag}-qemu-${i}`, image: QEMU_IMAGE })),
    ...Array.from({ length: orderCount }, (_, i) => ({ name: `${tag}-${i}`, image: "linux-test" })),
  ];
}

/** Ready orders of `tag` per minute, from the first submission to the last one ready, per image and in all. */
async function rate(db, tag, image) {
  const { rows } = await db.query(
    `select count(*) filter (where o.status = 'ready')::int as ready, count(*) filter (where o.status = 'failed')::int as failed, count(*)::int as total,
            extract(epoch from max(o.ready_at) - min(o.created_at))::float as seconds
       from orders o join images i on i.id = o.image_id where o.name like $1 and ($2::text is null or i.slug = $2)`,
    [`${tag}-%`, image ?? null],
  );
  const r = rows[0];
  return { ...r, seconds: r.seconds ?? 0, perMinute: r.seconds ? (r.ready / r.seconds) * 60 : 0 };
}

/** Submits the orders of `tag` through the webs in turn, 20 at a time, and waits until none is in flight. */
async function deliver(db, tag, webs, qemu) {
  const orders = phaseOrders(tag, qemu);
  let next = 0;
  const submit = async () => {
    while (next < orders.length) {
      const i = next++;
      const web = webs[i % webs.length];
      const res = await fetch(`${web.base}/api/v1/orders`, { method: "POST", headers: web.auth, body: JSON.stringify({ image: orders[i].image, flavor: "small", name: orders[i].name }) });
      if (res.status !== 201) throw new Error(`order ${orders[i].name} through ${web.name}: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, submit));
  const done = await waitFor(
    async () => Number((await db.query(`select count(*) from orders where name like $1 and status in ('submitted', 'approved', 'queued', 'provisioning')`, [`${tag}-%`])).rows[0].count) === 0,
    { timeoutMs, intervalMs: 250 },
  );
  return { all: await rate(db, tag, null), sim: await rate(db, tag, "linux-test"), qemu: qemu ? await qemuResults(db, tag) : null, timedOut: !done };
}

/** Each QEMU order of `tag`: its host, status and time to ready, and the host steps that ran on a worker other than the host's owner. */
async function qemuResults(db, tag) {
  const orders = (
    await db.query(
      `select o.name, o.status, h.name as host, h.owner_worker as owner, extract(epoch from o.ready_at - o.created_at)::float as seconds
         from orders o left join environments e on e.order_id = o.id left join hosts h on h.id = e.host_id
        where o.name like $1 order by o.name`,
      [`${tag}-qemu-%`],
    )
  ).rows;
  const steps = (
    await db.query(
      `select s.worker_id as worker, count(*)::int as n from pipeline_steps s join pipeline_runs r on r.id = s.run_id join orders o on o.id = r.order_id
        where o.name like $1 and r.kind = 'provision' and s.worker_id is not null and s.name not in ('place', 'allocate') group by s.worker_id`,
      [`${tag}-qemu-%`],
    )
  ).rows;
  return { orders, steps, elsewhere: steps.filter((s) => s.worker !== OWNER).reduce((n, s) => n + s.n, 0), hostSteps: steps.reduce((n, s) => n + s.n, 0) };
}

function qemuLine(q) {
  const each = q.orders.map((o) => `${o.name} on ${o.host ?? "no host"} ${o.status === "ready" ? `ready in ${o.seconds.toFixed(1)} s` : o.status}`).join("; ");
  const where = q.elsewhere === 0 ? `all ${q.hostSteps} host steps ran on ${OWNER}` : `${q.elsewhere} of ${q.hostSteps} host steps ran elsewhere (routing broken)`;
  return `  QEMU: ${each}; ${where}`;
}

/** Each worker's steps and orders in `tag`'s provisioning (its QEMU orders' steps apart), and host steps of orders on `OWNER`'s hosts that ran elsewhere. */
async function shares(db, tag) {
  const byWorker = (
    await db.query(
      `select s.worker_id as worker, count(*)::int as steps, count(distinct r.id)::int as runs, count(*) filter (where o.name like $2)::int as qemu_steps
         from pipeline_steps s join pipeline_runs r on r.id = s.run_id join orders o on o.id = r.order_id
        where o.name like $1 and r.kind = 'provision' and s.worker_id is not null group by s.worker_id order by s.worker_id`,
      [`${tag}-%`, `${tag}-qemu-%`],
    )
  ).rows;
  const strays = Number(
    (
      await db.query(
        `select count(*) from pipeline_steps s join pipeline_runs r on r.id = s.run_id join orders o on o.id = r.order_id
           join environments e on e.order_id = o.id join hosts h on h.id = e.host_id
          where o.name like $1 and r.kind = 'provision' and h.owner_worker = $2 and s.name not in ('place', 'allocate') and s.worker_id <> $2`,
        [`${tag}-%`, OWNER],
      )
    ).rows[0].count,
  );
  const onOwned = Number(
    (await db.query(`select count(*) from orders o join environments e on e.order_id = o.id join hosts h on h.id = e.host_id where o.name like $1 and h.owner_worker = $2`, [`${tag}-%`, OWNER])).rows[0].count,
  );
  return { byWorker, strays, onOwned };
}

/** Destroys the QEMU guests of `tag`'s ready orders through the portal and waits until they are gone (bounded). */
async function destroyGuests(db, tag, web) {
  const { rows } = await db.query(`select id, name from orders where name like $1 and status = 'ready'`, [`${tag}-qemu-%`]);
  for (const o of rows) {
    const res = await fetch(`${web.base}/api/v1/orders/${o.id}/destroy`, { method: "POST", headers: web.auth });
    if (!res.ok) throw new Error(`destroying ${o.name}: HTTP ${res.status} ${await res.text()}`);
  }
  const gone = await waitFor(
    async () => Number((await db.query(`select count(*) from orders where id = any($1::uuid[]) and status <> 'retired'`, [rows.map((o) => o.id)])).rows[0].count) === 0,
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  if (!gone) throw new Error(`the QEMU guests of ${tag} were not destroyed within 120 s`);
}

/**
 * What QEMU guests may leave on this machine when the portal could not destroy them: QEMU
 * processes under the bench's folder, the hosts' namespaces and CPU cgroups (named as in
 * lib/drivers/qemu/netns.ts hostKey), and the packed images of the bench's orders in the store.
 */
async function cleanupQemu() {
  await removeLocalQemu(dataRoot, QEMU_HOSTS.map((name) => ({ name, workDir: qemuWorkDir(name) })));
  const packed = path.join(imageStore, "packed");
  const ours = /^(one|many)-qemu-\d+-/;
  for (const key of existsSync(packed) ? readdirSync(packed).filter((k) => ours.test(k)) : []) rmSync(path.join(packed, key), { recursive: true, force: true });
}

async function withAuth(web) {
  const cookie = await signIn(web.base, "admin@portal.local", password);
  const token = await createApiToken(web.base, cookie, `bench ${web.name}`);
  return { ...web, auth: { authorization: `Bearer ${token}`, "content-type": "application/json" } };
}

const pad = (cells, widths) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");

async function main() {
  for (const p of [port, port + 1]) if (await portOpen("127.0.0.1", p, 300)) throw new Error(`port ${p} is in use; set BENCH_PORT`);
  const qemu = qemuChoice();
  if (qemu.on && !(Number.isInteger(qemuOrderCount) && qemuOrderCount >= 1 && qemuOrderCount <= 4)) {
    throw new Error(`BENCH_QEMU_ORDERS must be 1 to 4: the two local QEMU hosts hold four small guests`);
  }
  if (!(await ensureBuild(root))) throw new Error("the build failed");
  const owned = qemu.on ? QEMU_HOSTS : ["sim-1"];
  const db = new pg.Client({ connectionString: databaseUrl(adminUrl, dbName) });
  const cleanup = once(async () => {
    await db.end().catch(() => {});
    await Promise.all(processes.map(stop));
    if (qemu.on) await cleanupQemu();
    await deleteRedisKeys(redisUrl, prefix);
    await dropDatabase(adminUrl, dbName);
    rmSync(dataRoot, { recursive: true, force: true });
  });
  // Interrupted (Ctrl-C): the same clean-up, then out.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      log(`${signal}: stopping the processes and removing the guests, database and folders`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    if (qemu.on) prepareImages();
    await runPhases(db, qemu, owned);
  } finally {
    await cleanup();
  }
}

/** Stops a portal process: SIGTERM (a worker finishes its current step), SIGKILL after 20 s. */
async function stop(p) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

function once(fn) {
  let running = null;
  return () => (running ??= fn());
}

async function runPhases(db, qemu, owned) {
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
    // The webs register the store's images in the catalog; bench-a's QEMU driver reads them.
    ...(qemu.on ? { IMAGE_STORE_DIR: imageStore } : {}),
  };
  // 1. One web, one worker.
  const web1 = startWeb(0);
  await untilHealthy(web1);
  await db.connect();
  // Room for every sim order: wide networks, big sim hosts, and a third sim host.
  await db.query(`update networks set cidr = case purpose when 'service' then '10.20.0.0/16' else '10.30.0.0/16' end`);
  await db.query(`insert into hosts (name, kind, address, state, cpu_capacity, memory_mb_capacity, disk_gb_capacity, features)
                  select 'sim-3', kind, 'sim://sim-3', state, cpu_capacity, memory_mb_capacity, disk_gb_capacity, features from hosts where name = 'sim-1'`);
  await db.query(`update hosts set cpu_capacity = 1000000, memory_mb_capacity = 1000000000, disk_gb_capacity = 100000000 where kind = 'sim'`);
  if (qemu.on) {
    const catalog = await db.query(`select 1 from images where slug = $1`, [QEMU_IMAGE]);
    const found = await db.query(`select name from hosts where name = any($1::text[])`, [QEMU_HOSTS]);
    if (catalog.rowCount === 0 || found.rowCount !== QEMU_HOSTS.length) throw new Error(`web-1 did not register the QEMU hosts and the ${QEMU_IMAGE} image:\n${web1.output()}`);
    // The machine of bench-a holds the guests: the hosts' work folders are in its data folder.
    for (const host of QEMU_HOSTS) {
      await db.query(`update hosts set owner_worker = $1, config = config || jsonb_build_object('workDir', $2::text) where name = $3`, [OWNER, qemuWorkDir(host), host]);
    }
  } else {
    // No QEMU: sim-1 stands in for the local hosts of bench-a's machine.
    await db.query(`update hosts set owner_worker = $1 where name = 'sim-1'`, [OWNER]);
  }
  const workerA = startWorker(OWNER);
  await untilWorking(workerA);
  const webs1 = [await withAuth(web1)];
  const cpus = os.cpus();
  log(`machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, Node ${process.version}; worker concurrency 8`);
  log(`a phase: ${orderCount} sim orders (sim-1..3, ${stepMs} ms a step) + ${qemu.on ? `${qemuOrderCount} QEMU orders (${QEMU_IMAGE}, TCG)` : `no QEMU orders (${qemu.why})`}; ${OWNER} owns ${owned.join(", ")}`);
  const one = await deliver(db, "one", webs1, qemu.on);
  log(`1 web + 1 worker: ${one.all.ready} of ${one.all.total} ready in ${one.all.seconds.toFixed(1)} s (${one.all.failed} failed${one.timedOut ? ", timed out" : ""})`);
  if (one.qemu) {
    log(qemuLine(one.qemu));
    // Room on the QEMU hosts, and an idle machine, for phase 2's guests.
    await destroyGuests(db, "one", webs1[0]);
  }

  // 2. Two webs, three workers; bench-a still owns its machine's hosts.
  const web2 = startWeb(1);
  const workerB = startWorker("bench-b");
  const workerC = startWorker("bench-c");
  await Promise.all([untilHealthy(web2), untilWorking(workerB), untilWorking(workerC)]);
  const webs2 = [...webs1, await withAuth(web2)];
  const many = await deliver(db, "many", webs2, qemu.on);
  log(`2 web + 3 workers: ${many.all.ready} of ${many.all.total} ready in ${many.all.seconds.toFixed(1)} s (${many.all.failed} failed${many.timedOut ? ", timed out" : ""})`);
  if (many.qemu) log(qemuLine(many.qemu));
  const s = await shares(db, "many");
  if (many.qemu) await destroyGuests(db, "many", webs2[0]);

  const w = [18, 9, 8, 11, 15, 20];
  log("");
  log(pad(["shape", "ready", "seconds", "orders/min", "sim orders/min", "QEMU to ready (s)"], w));
  for (const [shape, r] of [["1 web + 1 worker", one], ["2 web + 3 workers", many]]) {
    const toReady = r.qemu ? r.qemu.orders.map((o) => (o.status === "ready" ? o.seconds.toFixed(1) : o.status)).join(", ") : "-";
    log(pad([shape, `${r.all.ready}/${r.all.total}`, r.all.seconds.toFixed(1), r.all.perMinute.toFixed(0), r.sim.perMinute.toFixed(0), toReady], w));
  }
  log(`speed-up: ${(many.all.perMinute / one.all.perMinute).toFixed(2)}× (sim orders ${(many.sim.perMinute / one.sim.perMinute).toFixed(2)}×); all processes share this machine's ${cpus.length} cores, PostgreSQL and Redis`);
  log("");
  log("each worker's share of the provisioning steps with 2 web + 3 workers (orders: those it ran a step of):");
  const total = s.byWorker.reduce((n, x) => n + x.steps, 0);
  const ws = [18, 6, 6, 7, 11, 14];
  log(pad(["worker", "steps", "share", "orders", "QEMU steps", "owns"], ws));
  for (const x of s.byWorker) log(pad([x.worker, x.steps, `${((x.steps / total) * 100).toFixed(0)}%`, x.runs, x.qemu_steps, x.worker === OWNER ? owned.join(", ") : "-"], ws));
  log(`${s.onOwned} orders placed on ${owned.join(", ")} (owned by ${OWNER}): ${s.strays === 0 ? "every host step ran on their owner" : `${s.strays} host steps ran elsewhere (routing broken)`}`);
  const qemuFailed = [one.qemu, many.qemu].some((q) => q && (q.elsewhere > 0 || q.orders.some((o) => o.status !== "ready")));
  if (s.strays > 0 || one.timedOut || many.timedOut || qemuFailed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`[bench scale-out] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
