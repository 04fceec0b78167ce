/**
 * Fault drills, from outside, with sim orders in flight: the web (the app's API handlers in a
 * process of its own) and the worker run as separate processes on a PostgreSQL cluster and a
 * redis-server this file starts for itself (never the shared ones), because the drills restart
 * and flush them. In order: SIGKILL of the worker and a replacement; Redis losing every key
 * (FLUSHALL); a PostgreSQL fast restart; SIGTERM in the middle of a step; FLUSHALL and a PostgreSQL
 * restart during a host evacuation. Afterwards nothing exists twice: no address, MAC, environment
 * or host object. Last, FLUSHALL and a PostgreSQL restart during a patch campaign.
 *
 * FAULT_DRILL_MEASURE=1 turns the time limits into measurements (printed, not asserted), with
 * a long patience, to compare builds: `FAULT_DRILL_MEASURE=1 npx vitest run tests/integration/fault-drill.test.ts`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { freshDatabase, portOpen, waitFor as waitForCondition } from "../../scripts/lib.mjs";
import type { WorkerProcess } from "../helpers/worker-process";

const measuring = process.env.FAULT_DRILL_MEASURE === "1";
const PG_BIN = "/usr/lib/postgresql/15/bin";
const ports = { pg: Number(process.env.FAULT_DRILL_PG_PORT ?? 5460), redis: Number(process.env.FAULT_DRILL_REDIS_PORT ?? 6460), web: Number(process.env.FAULT_DRILL_WEB_PORT ?? 3260) };
const base = `http://127.0.0.1:${ports.web}`;
const dir = mkdtempSync(path.join(os.tmpdir(), "portal-drill-"));
const pgData = path.join(dir, "pg");
const isRoot = process.getuid?.() === 0;

/** initdb and pg_ctl refuse to run as root: as root they run as the postgres user. */
function pgCtlCommand(args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", `${PG_BIN}/pg_ctl`, ...args]] : [`${PG_BIN}/pg_ctl`, args];
}
function pgCtl(args: string[]) {
  const [cmd, argv] = pgCtlCommand(args);
  return execFileSync(cmd, argv, { stdio: "ignore", timeout: 60_000 });
}
/** The same without blocking this process's event loop (orders keep being posted meanwhile). */
async function pgCtlAsync(args: string[]) {
  const [cmd, argv] = pgCtlCommand(args);
  await promisify(execFile)(cmd, argv, { timeout: 60_000 });
}
// Another checkout's drill on the same ports would be flushed and restarted by this one: refuse.
for (const [name, port] of Object.entries(ports)) {
  if (await portOpen("127.0.0.1", port, 300)) throw new Error(`port ${port} (${name}) is in use; set FAULT_DRILL_${name.toUpperCase()}_PORT`);
}
const pgOptions = ["-D", pgData, "-l", path.join(dir, "pg.log"), "-w", "-o", `-p ${ports.pg} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=100`];

if (isRoot) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
execFileSync(isRoot ? "runuser" : `${PG_BIN}/initdb`, [...(isRoot ? ["-u", "postgres", "--", `${PG_BIN}/initdb`] : []), "-D", pgData, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], { stdio: "pipe" });
pgCtl([...pgOptions, "start"]);

const redisServer: ChildProcess = spawn("redis-server", ["--port", String(ports.redis), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
if (!(await waitForCondition(() => portOpen("127.0.0.1", ports.redis, 300), { timeoutMs: 10_000 })) || redisServer.exitCode !== null) {
  throw new Error(`redis-server did not start on ${ports.redis}`);
}

const databaseUrl = await freshDatabase(`postgres://postgres@127.0.0.1:${ports.pg}/postgres`, "portal");
const redisUrl = `redis://127.0.0.1:${ports.redis}`;
// This file's own reads go to the drill's servers too: lib/env.ts reads these at import, so
// everything that imports lib/ (the helpers too) is imported after this.
Object.assign(process.env, { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });

const { sql } = await import("drizzle-orm");
const { closeDb } = await import("@/lib/db/client");
const { closeQueues } = await import("@/lib/jobs/queues");
const { closeRedis } = await import("@/lib/redis");
const { hosts } = await import("@/lib/db/schema");
const { bootPortal, tokenFor, unique, waitFor } = await import("../helpers/portal");
const { killAllWorkers, startApiProcess, startWorkerProcess, untilReady } = await import("../helpers/worker-process");

const { db, admin } = await bootPortal();
// Room for every order of the drills on the two sim hosts.
await db.update(hosts).set({ cpuCapacity: 512, memoryMbCapacity: 1 << 20 });
const token = await tokenFor(db, admin);
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

const processEnv = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LOG_LEVEL: "info" };
const GRACE_MS = 5000;
const workerEnv = { ...processEnv, SIM_STEP_MS: "200", WORKER_CONCURRENCY: "4", WORKER_GRACE_MS: String(GRACE_MS), CAMPAIGN_TICK_MS: "250" };
let web = startApiProcess(ports.web, { ...processEnv, SIM_STEP_MS: "300" });
const flusher = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
let worker: WorkerProcess;

afterAll(async () => {
  await killAllWorkers();
  flusher.disconnect();
  // Closed here, while the servers still answer; the set-up's own clean-up then finds nothing open.
  await closeQueues().catch(() => {});
  await closeRedis().catch(() => {});
  await closeDb().catch(() => {});
  redisServer.kill("SIGKILL");
  try {
    pgCtl(["-D", pgData, "-m", "immediate", "stop"]);
  } catch {
    // already stopped
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** An order through the web process's API: the status code, and the id when accepted. */
async function post(): Promise<{ status: number; id?: string; retryAfter: string | null; body: string }> {
  const res = await fetch(`${base}/api/v1/orders`, { method: "POST", headers, body: JSON.stringify({ image: "linux-test", flavor: "small", name: unique("drill") }) });
  const body = await res.text();
  const id = res.status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
  return { status: res.status, id, retryAfter: res.headers.get("retry-after"), body };
}

async function submit(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post();
    expect(r.status, `${r.body}\n${web.output().slice(-3000)}`).toBe(201);
    ids.push(r.id!);
  }
  return ids;
}

async function rowsOf<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

type OrderRow = { id: string; status: string };
async function statuses(ids: string[]): Promise<OrderRow[]> {
  return rowsOf<OrderRow>(sql`select id, status from orders where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`);
}

/** How many provision steps of these orders are running right now. */
async function runningSteps(ids: string[]): Promise<number> {
  const [row] = await rowsOf<{ n: number }>(sql`
    select count(*)::int as n from pipeline_steps s join pipeline_runs r on r.id = s.run_id
    where r.order_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) and s.status = 'running'`);
  return row.n;
}

/**
 * Seconds from `since` until every order is ready; a failed order fails the drill. Measuring,
 * a drill that does not recover within the patience gives null instead of failing.
 */
async function secondsUntilReady(ids: string[], since: number, limitMs: number): Promise<number | null> {
  try {
    await waitFor(() => statuses(ids), (rows) => rows.every((r) => r.status === "ready" || r.status === "failed"), {
      timeoutMs: measuring ? 120_000 : limitMs,
      intervalMs: 100,
      what: `${ids.length} orders to be ready`,
    });
  } catch (err) {
    if (measuring) return null;
    throw err;
  }
  const rows = await statuses(ids);
  expect(rows.filter((r) => r.status !== "ready")).toEqual([]);
  return (Date.now() - since) / 1000;
}

function report(drill: string, seconds: number | null, limitS: number) {
  console.log(`[drill] ${drill}: ${seconds === null ? "did not recover" : `${seconds.toFixed(1)} s`}`);
  if (!measuring) expect(seconds, drill).not.toBeNull();
  if (!measuring) expect(seconds!, drill).toBeLessThan(limitS);
}

/** Measuring an old build: a drill that did not recover is cleared by a new worker before the next one. */
async function replaceWorkerIfStuck(ids: string[]) {
  if (!measuring || (await statuses(ids)).every((r) => r.status === "ready")) return;
  worker.kill("SIGKILL");
  await worker.exited;
  worker = startWorkerProcess(workerEnv);
  await untilReady(worker);
  await secondsUntilReady(ids, Date.now(), 120_000);
}

describe("fault drills with orders in flight", () => {
  it("starts web and worker as separate processes", async () => {
    await waitFor(async () => web.output(), (out) => out.includes("listening") || web.child.exitCode !== null, { what: "the web process", timeoutMs: 30_000 });
    expect(web.child.exitCode, web.output()).toBeNull();
    worker = startWorkerProcess(workerEnv);
    await untilReady(worker);
    const health = await fetch(`${base}/api/health`);
    expect(health.status, await health.clone().text()).toBe(200);
  });

  it("SIGKILL: a replacement worker delivers the killed worker's orders within 15 s of starting", async () => {
    const ids = await submit(4);
    await waitFor(() => runningSteps(ids), (n) => n >= 2, { what: "steps to run", timeoutMs: 30_000, intervalMs: 20 });
    worker.kill("SIGKILL");
    expect((await worker.exited).signal).toBe("SIGKILL");
    const restart = Date.now();
    worker = startWorkerProcess(workerEnv);
    report("SIGKILL + restart, all orders ready after the restart", await secondsUntilReady(ids, restart, 15_000), 15);
    await replaceWorkerIfStuck(ids);
  }, 150_000);

  it("Redis FLUSHALL: queued and running orders are delivered without restarting anything", async () => {
    await untilReady(worker);
    const pid = worker.pid;
    const ids = await submit(8);
    // Four run (the worker's concurrency), the others wait in the queue that is about to vanish.
    await waitFor(() => runningSteps(ids), (n) => n >= 2, { what: "steps to run", timeoutMs: 30_000, intervalMs: 20 });
    await flusher.flushall();
    const flushed = Date.now();
    report("Redis FLUSHALL, all orders ready after the flush", await secondsUntilReady(ids, flushed, 30_000), 30);
    if (!measuring) {
      expect(worker.child.exitCode, worker.output()).toBeNull();
      expect(worker.pid).toBe(pid);
      // The job schedulers are back, and health says all is well again.
      const health = await waitFor(async () => fetch(`${base}/api/health`).then((r) => r.json() as Promise<{ status: string }>), (h) => h.status === "ok", { what: "health to be ok", timeoutMs: 15_000, intervalMs: 200 });
      expect(health).toMatchObject({ status: "ok", schedulers: { ok: true } });
    }
    await replaceWorkerIfStuck(ids);
  }, 300_000);

  it("PostgreSQL fast restart: the worker lives on, the web answers 201 or 503 with Retry-After, orders finish", async () => {
    await untilReady(worker);
    const pid = worker.pid;
    const ids = await submit(4);
    await waitFor(() => runningSteps(ids), (n) => n >= 2, { what: "steps to run", timeoutMs: 30_000, intervalMs: 20 });
    // Orders keep arriving while the database restarts.
    const answers: Awaited<ReturnType<typeof post>>[] = [];
    let posting = true;
    const poster = (async () => {
      while (posting && answers.length < 40) {
        answers.push(await post().catch((err: Error) => ({ status: 0, retryAfter: null, body: err.message })));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await pgCtlAsync([...pgOptions, "-m", "fast", "restart"]);
    const restarted = Date.now();
    const fromRestart = answers.length;
    // Orders are accepted again after the restart, on fresh connections.
    await waitFor(async () => answers.slice(fromRestart).filter((a) => a.status === 201).length, (n) => n >= 2 || answers.length >= 40, { what: "orders accepted again", intervalMs: 100, timeoutMs: 30_000 });
    if (!measuring) expect(answers.slice(fromRestart).filter((a) => a.status === 201).length, JSON.stringify(answers.map((a) => a.status))).toBeGreaterThanOrEqual(2);
    posting = false;
    await poster;
    console.log(`[drill] answers during the PostgreSQL restart: ${JSON.stringify(answers.map((a) => a.status))}`);
    const accepted = answers.filter((a) => a.status === 201).map((a) => a.id!);
    const seconds = await secondsUntilReady([...ids, ...accepted], restarted, 30_000);
    report("PostgreSQL fast restart, all orders ready after the restart", seconds, 30);
    const alive = worker.child.exitCode === null && worker.child.signalCode === null;
    const waits = worker.output().split("\n").filter((l) => l.includes("the database is unavailable")).length;
    console.log(`[drill] worker after the PostgreSQL restart: ${alive ? `alive, pid ${worker.pid}` : `exited (${worker.child.exitCode ?? worker.child.signalCode})`}, ${waits} run(s) waited for the database; web ${web.child.exitCode === null ? "alive" : "exited"}`);
    if (!measuring) {
      expect(alive, worker.output()).toBe(true);
      expect(worker.pid).toBe(pid);
      expect(web.child.exitCode, web.output()).toBeNull();
      for (const a of answers) {
        expect([201, 503], a.body).toContain(a.status);
        if (a.status === 503) {
          expect(a.retryAfter).toMatch(/^\d+$/);
          expect(JSON.parse(a.body).error).toMatch(/database/i);
        }
      }
    }
    if (web.child.exitCode !== null) {
      web = startApiProcess(ports.web, { ...processEnv, SIM_STEP_MS: "300" });
      await waitFor(async () => web.output(), (out) => out.includes("listening"), { what: "the web process", timeoutMs: 30_000 });
    }
    if (!alive) {
      worker = startWorkerProcess(workerEnv);
      await untilReady(worker);
      await secondsUntilReady([...ids, ...accepted], Date.now(), 120_000);
    }
  }, 300_000);

  it.skipIf(measuring)("PostgreSQL stopped under running steps: runs wait for it instead of failing, health and the API say so, and the steps are redone once it is back", async () => {
    await untilReady(worker);
    const pid = worker.pid;
    const waits = () => worker.output().split("\n").filter((l) => l.includes("the database is unavailable")).length;
    const before = waits();
    const ids = await submit(4);
    await waitFor(() => runningSteps(ids), (n) => n >= 2, { what: "steps to run", timeoutMs: 30_000, intervalMs: 20 });
    await pgCtlAsync(["-D", pgData, "-m", "fast", "-w", "stop"]);
    // Down until a run has found out (each step ends with a write).
    await waitFor(async () => waits() - before, (n) => n >= 1, { what: "a run to wait for the database", timeoutMs: 15_000, intervalMs: 50 });
    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "degraded", database: { ok: false } });
    const refused = await post();
    expect(refused.status, refused.body).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.body).error).toMatch(/database is unavailable/);

    await pgCtlAsync([...pgOptions, "start"]);
    report("PostgreSQL stopped under running steps, all orders ready after it started again", await secondsUntilReady(ids, Date.now(), 30_000), 30);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(worker.pid).toBe(pid);
    expect(worker.output()).toContain("[worker] the database answers again; resuming");
  }, 120_000);

  it("SIGTERM in the middle of a step: the worker stops after that step and exits 0 within its grace period; the next one resumes", async () => {
    await untilReady(worker);
    const ids = await submit(4);
    await waitFor(() => runningSteps(ids), (n) => n >= 2, { what: "steps to run", timeoutMs: 30_000, intervalMs: 20 });
    const signalled = Date.now();
    worker.kill("SIGTERM");
    const exit = await worker.exited;
    const stopS = (Date.now() - signalled) / 1000;
    console.log(`[drill] SIGTERM: exited ${JSON.stringify(exit)} after ${stopS.toFixed(1)} s`);
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
    const left = (await statuses(ids)).filter((r) => r.status !== "ready");
    if (!measuring) {
      expect(stopS).toBeLessThan(GRACE_MS / 1000 + 3);
      // It did not finish whole pipelines, and left no step half-done.
      expect(left.length).toBeGreaterThan(0);
      expect(await runningSteps(ids)).toBe(0);
      expect(worker.output()).toContain("[worker] SIGTERM");
    }
    const restart = Date.now();
    worker = startWorkerProcess(workerEnv);
    report("SIGTERM, all orders ready after the next worker started", await secondsUntilReady(ids, restart, 15_000), 15);
  }, 150_000);

  /**
   * Evacuates the active sim host holding the most environments, one move at a time; once the
   * first has moved, `fault` strikes; the evacuation must still end with the host offline and
   * empty, every environment moved once.
   */
  async function evacuationThrough(fault: () => Promise<unknown>, drill: string) {
    await untilReady(worker);
    // A fresh host to move to, as the sim hosts are (a host an environment left is never a
    // target again: a guest created twice on one host would count as a duplicate below).
    const [like] = await db.select().from(hosts).where(sql`${hosts.kind} = 'sim'`).limit(1);
    const name = unique("drill-sim");
    await db.insert(hosts).values({ ...like!, id: undefined, name, address: `sim://${name}`, state: "active", createdAt: undefined });
    const [from] = await rowsOf<{ id: string; name: string; n: number }>(sql`
      select h.id, h.name, (select count(*)::int from environments e where e.host_id = h.id and e.state <> 'deleted') as n
      from hosts h where h.kind = 'sim' and h.state = 'active' order by n desc, h.name limit 1`);
    expect(from!.n).toBeGreaterThanOrEqual(3);
    const res = await fetch(`${base}/api/v1/hosts/${from!.id}/evacuate`, { method: "POST", headers, body: JSON.stringify({ parallel: 1 }) });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    const { id } = JSON.parse(text) as { id: string };
    // Read from the database: the web process may be the one that is down.
    const view = async () => {
      const [row] = await rowsOf<{ status: string; outcome: string | null }>(sql`select status, outcome from evacuations where id = ${id}`);
      const moves = await rowsOf<{ status: string; n: number }>(sql`select status, count(*)::int as n from evacuation_moves where evacuation_id = ${id} group by status`);
      return { ...row!, moves: Object.fromEntries(moves.map((m) => [m.status, m.n])) as Record<string, number> };
    };
    // One environment has moved; the others wait their turn.
    const started = await waitFor(view, (v) => (v.moves.moved ?? 0) >= 1 || v.status !== "running", { what: "the first move", timeoutMs: 30_000, intervalMs: 20 });
    expect(started.status).toBe("running");
    await fault();
    const struck = Date.now();
    let done: Awaited<ReturnType<typeof view>> | null = null;
    try {
      done = await waitFor(view, (v) => v.status !== "running", { what: "the evacuation to end", timeoutMs: measuring ? 120_000 : 45_000, intervalMs: 100 });
    } catch (err) {
      if (!measuring) throw err;
    }
    report(`${drill}, evacuation ended after it`, done ? (Date.now() - struck) / 1000 : null, 45);
    if (!done) return;
    expect(done.outcome).toBe(`${from!.name} is offline and holds no environment (${from!.n} environments moved)`);
    expect(done.moves).toEqual({ moved: from!.n });
    expect(await rowsOf(sql`select id from environments where host_id = ${from!.id} and state <> 'deleted'`)).toEqual([]);
    const [host] = await rowsOf<{ state: string }>(sql`select state from hosts where id = ${from!.id}`);
    expect(host!.state).toBe("offline");
  }

  it("Redis FLUSHALL during a host evacuation: the evacuation goes on, and the host ends offline and empty", async () => {
    await evacuationThrough(() => flusher.flushall(), "Redis FLUSHALL during an evacuation");
  }, 150_000);

  it("PostgreSQL fast restart during a host evacuation: the evacuation goes on, and the host ends offline and empty", async () => {
    await evacuationThrough(() => pgCtlAsync([...pgOptions, "-m", "fast", "restart"]), "PostgreSQL fast restart during an evacuation");
    expect(worker.child.exitCode, worker.output()).toBeNull();
  }, 150_000);

  it("nothing exists twice: addresses, MACs, environments, host objects", async () => {
    const one = rowsOf;
    expect(await one(sql`select network_id, ip from ip_allocations group by network_id, ip having count(*) > 1`)).toEqual([]);
    expect(await one(sql`select network_id, mac from ip_allocations group by network_id, mac having count(*) > 1`)).toEqual([]);
    expect(await one(sql`select order_id from environments where state <> 'deleted' group by order_id having count(*) > 1`)).toEqual([]);
    expect(await one(sql`select name, kind from sim_objects where created_count > 1`)).toEqual([]);
    const ready = await one(sql`select count(*)::int as n from orders where status = 'ready'`);
    const environments = await one(sql`select count(*)::int as n from environments where state = 'running'`);
    expect(environments).toEqual(ready);
  });
  /**
   * A patch campaign over three of the drill's environments, one a wave; once the first is
   * done, `fault` strikes; the campaign must still complete with every one on the new version.
   * (After "nothing exists twice": a reinstall builds a guest again on its host.)
   */
  async function campaignThrough(fault: () => Promise<unknown>, drill: string, changelog: string) {
    await untilReady(worker);
    const [image] = await rowsOf<{ id: string }>(sql`select id from images where slug = 'linux-test'`);
    const added = await fetch(`${base}/api/v1/images/${image!.id}/versions`, { method: "POST", headers, body: JSON.stringify({ changelog }) });
    expect(added.status, await added.clone().text()).toBe(201);
    const { number } = (await added.json()) as { number: number };
    const targets = await rowsOf<{ id: string }>(sql`
      select e.id from environments e join orders o on o.id = e.order_id
      where o.status = 'ready' and e.state = 'running' and not exists (select 1 from campaign_targets t where t.environment_id = e.id)
      order by o.created_at limit 3`);
    expect(targets).toHaveLength(3);
    const res = await fetch(`${base}/api/v1/campaigns`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        image: "linux-test",
        targets: { environments: targets.map((t) => t.id) },
        window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date(Date.now() + 3600_000).toISOString() },
        waveSize: 1,
        failureThreshold: { count: 0 },
      }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const { id } = JSON.parse(text) as { id: string };
    // Read from the database: the web process may be the one that is down.
    const view = async () => {
      const [row] = await rowsOf<{ status: string; reason: string | null }>(sql`select status, reason from campaigns where id = ${id}`);
      const rows = await rowsOf<{ status: string; version: number | null }>(sql`
        select t.status, v.number as version from campaign_targets t join environments e on e.id = t.environment_id
        left join image_versions v on v.id = e.image_version_id where t.campaign_id = ${id} order by t.position`);
      return { ...row!, targets: rows };
    };
    const ended = (v: { status: string }) => v.status === "completed" || v.status === "stopped";
    const started = await waitFor(view, (v) => v.targets.some((t) => t.status === "done") || ended(v), { what: "the first wave", timeoutMs: 60_000, intervalMs: 50 });
    expect(started.status, started.reason ?? "").toBe("running");
    await fault();
    const struck = Date.now();
    let done: Awaited<ReturnType<typeof view>> | null = null;
    try {
      done = await waitFor(view, ended, { what: "the campaign to end", timeoutMs: measuring ? 180_000 : 90_000, intervalMs: 100 });
    } catch (err) {
      if (!measuring) throw err;
    }
    report(`${drill}, campaign ended after it`, done ? (Date.now() - struck) / 1000 : null, 90);
    if (!done) return;
    expect(done.status, done.reason ?? "").toBe("completed");
    expect(done.targets).toEqual(targets.map(() => ({ status: "done", version: number })));
  }

  it("Redis FLUSHALL during a patch campaign: the campaign goes on and every environment ends on the new version", async () => {
    await campaignThrough(() => flusher.flushall(), "Redis FLUSHALL during a campaign", "drill: openssl fix");
  }, 200_000);

  it("PostgreSQL fast restart during a patch campaign: the campaign goes on and every environment ends on the new version", async () => {
    await campaignThrough(() => pgCtlAsync([...pgOptions, "-m", "fast", "restart"]), "PostgreSQL fast restart during a campaign", "drill: kernel update");
    expect(worker.child.exitCode, worker.output()).toBeNull();
  }, 200_000);
});
