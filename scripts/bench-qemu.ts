// `npm run bench -- qemu`: what the portal adds to a real QEMU guest, in one run.
//   (a) raw: the QEMU Linux image booted by hand with the driver's own command line
//       (qemuArgv), from qemu start to the guest's PORTAL-READY line on its serial console;
//   (b) portal: an order for the same image (createOrder, as POST /api/v1/orders) to status "ready" (approval,
//       queue, mk_image resolve+pack with checksums, mk_virtual allocate..wait_ready);
//       their ratio is the portal's overhead;
//   (c) live migration of that guest to the other QEMU host through
//       requestMigration (as POST /api/v1/environments/:id/migrate): QEMU's total time and downtime, and the
//       request-to-done time of the action;
//   (e) on that guest: backup (as POST .../backups; written time, size) against QMP drive-backup
//       + gzip + sha256 of the same disk; verification (the portal boots the copy) and in-place
//       restore (stop, swap, boot to ready) against sha256 + gunzip + qemu-img check of the raw
//       copy plus (a)'s boot; a snapshot against a raw QMP `savevm`; a table of portal ms, raw
//       ms and ratio. Backup and verify run with the host in bridge mode (the throwaway guest needs a
//       network namespace; without root the table says why it was not verified);
//   (w) the web service (the same image with the web recipe: busybox httpd set up at boot and
//       answering HTTP, an account, a sysctl value) ordered to ready, beside (a) and (b);
//       BENCH_QEMU_ONLY=web stops after it;
//   (f) evacuation of a host holding two running guests (requestEvacuation, as POST
//       /api/v1/hosts/:id/evacuate, 2 moves at a time): request to the host offline and empty, and
//       per guest QEMU's total migration time and downtime and the move's request-to-switch time;
//   (s) a service IP moved between two guests of one host (bridge mode, as root): reserved, attached
//       to one guest, then moved back and forth (requestServiceIpAttach, as POST
//       /api/v1/service-ips/:id/attach); per move the downtime the host saw (the longest time the
//       address did not answer a ping every 20 ms from the host's network namespace) and the
//       request-to-done time; min, median and max;
//   (p) the PostgreSQL database: its image (linux-qemu-postgres) booted by hand, the same with the
//       recipe glued in by hand, and the catalog item ordered to ready through the portal; ratios;
//       BENCH_QEMU_ONLY=database stops after it;
//   (d) the same order on a QEMU host reached over SSH (an sshd on loopback, login user not
//       root, its own copy of the golden image, user-mode networking): order to ready, to set
//       beside (b). Needs root (the sshd's session user); skipped with a message otherwise.
// Runs the portal's order and migration functions (what the API routes call) and the worker in this process on PostgreSQL and Redis (no Next.js
// build needed), both QEMU hosts on this machine with user-mode networking so (a) and (b)
// run the same command line. Not part of `npm test`; TCG on a busy machine gives other figures.
// Options (environment): BENCH_PG_ADMIN_URL, IMAGE_STORE_DIR (default .data/images; built if missing),
// BENCH_SSHD_PORT (loopback port of (d)'s sshd, default 2249).
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { deleteRedisKeys, dropDatabase, freshDatabase } from "./lib.mjs";
import { sshdAvailable, startSshd, type RunningSshd } from "../tests/helpers/sshd";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const adminUrl = process.env.BENCH_PG_ADMIN_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = "redis://127.0.0.1:6379";
const dbName = `portal_bench_qemu_${process.pid}`;
const prefix = `benchq_${process.pid}`;
const dataDir = mkdtempSync("/tmp/pbq-");
const store = path.resolve(root, process.env.IMAGE_STORE_DIR || ".data/images");

const log = (line: string) => console.log(`[bench qemu] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 500)}`);
    await sleep(intervalMs);
  }
}

async function main() {
  const dbUrl = await freshDatabase(adminUrl, dbName);
  Object.assign(process.env, {
    DATABASE_URL: dbUrl, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, DATA_DIR: dataDir, IMAGE_STORE_DIR: store,
    ADMIN_PASSWORD: "bench-admin-password", AUTH_SECRET: "bench-secret-bench-secret-bench-secret",
    PORTAL_EMBEDDED_WORKER: "0", LOG_LEVEL: "warn",
  });
  // lib/env.ts reads process.env once, at import: import the portal only now.
  const { LocalTransport } = await import("../lib/drivers/transport/local");
  const { buildAllImages } = await import("../lib/drivers/images/build");
  const { registerBuiltImages } = await import("../lib/catalog/register-images");
  const { getDb, closeDb } = await import("../lib/db/client");
  const { ensureQemuHosts, seedIfEmpty } = await import("../lib/db/seed");
  const { backups, hosts, users, environmentActions, serviceIpMoves } = await import("../lib/db/schema");
  const { reserveServiceIp } = await import("../lib/net/service-ips");
  const { requestServiceIpAttach } = await import("../lib/lifecycle/service-ips");
  const { createOrder, destroyEnvironment, orderView } = await import("../lib/orders/queries");
  const { cgroupName, removeCgroup } = await import("../lib/drivers/qemu/cgroup");
  const { hostKey, netnsName } = await import("../lib/drivers/qemu/netns");
  const { requestMigration } = await import("../lib/lifecycle/migrate");
  const { requestEvacuation } = await import("../lib/fleet/evacuate");
  const { evacuationView } = await import("../lib/fleet/queries");
  const { requestBackup, requestRestore, requestVerification } = await import("../lib/backups/backups");
  const { requestSnapshot } = await import("../lib/lifecycle/snapshots");
  const { withQmp } = await import("../lib/drivers/qemu/qmp");
  const { qemuArgv, guestFiles } = await import("../lib/drivers/qemu/args");
  const { buildGlueArchive, guestKernelAppend, parseReadyLine } = await import("../lib/drivers/qemu/glue");
  const { resolveImage } = await import("../lib/drivers/images/pipeline");
  const { startWorkers } = await import("../workers/runtime");
  const { closeQueues } = await import("../lib/jobs/queues");
  const { closeRedis } = await import("../lib/redis");
  const { eq } = await import("drizzle-orm");
  const { encryptHostSecret } = await import("../lib/drivers/transport/secrets");
  const { goldenPaths } = await import("../lib/drivers/images/store");
  const { postgres } = await import("../lib/recipes/postgres");
  const { newDatabasePassword } = await import("../lib/recipes/scram");
  const { closeSshConnections } = await import("../lib/drivers/transport");

  const t = new LocalTransport();
  const cpus = os.cpus();
  log(`machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, KVM not used (TCG), Node ${process.version}`);
  const t0 = Date.now();
  const built = await buildAllImages(t, store, { log: () => {} });
  log(`images: ${built[0]!.reused ? "reused" : "built"} in ${store} (${Date.now() - t0} ms), kernel ${built[0]!.manifest.kernelVersion}`);

  const db = await getDb();
  const { hashPassword } = await import("../lib/auth/password");
  await seedIfEmpty(db, { adminEmail: "admin@portal.local", adminPasswordHash: () => hashPassword("bench-admin-password") });
  await ensureQemuHosts(db, dataDir);
  await db.update(hosts).set({ state: "offline" }).where(eq(hosts.kind, "sim"));
  for (const name of ["qemu-1", "qemu-2"]) {
    await db
      .update(hosts)
      .set({ config: { workDir: path.join(dataDir, name), imageStore: store, network: "user", migrationPorts: [45000, 45099] } as never })
      .where(eq(hosts.name, name));
  }
  await registerBuiltImages(db, t, store);
  const [admin] = await db.select().from(users).where(eq(users.email, "admin@portal.local"));
  const actor = { id: admin!.id, role: admin!.role, email: admin!.email };
  const hostname = "bench-q1";
  /** The two guests of (f)'s evacuation. */
  const evacuees = ["bench-q3", "bench-q4"];
  // Waits for an environment action (migrate, backup, verify, restore, snapshot) to end; it must succeed.
  const actionDone = async (id: string, what: string) => {
    const a = await until(async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, id)))[0]!, (a) => a.status === "succeeded" || a.status === "failed", 600_000, what, 20);
    if (a.status !== "succeeded") throw new Error(`${what} failed: ${a.error}`);
    return a;
  };
  const raw = { ms: 0 };
  const workers = await startWorkers();
  let sshd: RunningSshd | null = null;
  let sshStore: string | null = null;
  let verifyProbe: string | null = null;
  try {
    // (a) raw boot with the same command line the driver builds (user-mode NICs, same MACs).
    const nics = [
      { mac: "02:00:00:14:00:02", ip: "10.20.0.2", prefix: 24, gateway: null, purpose: "service" },
      { mac: "02:00:00:1e:00:02", ip: "10.30.0.2", prefix: 24, gateway: "10.30.0.1", purpose: "production" },
    ];
    /** Boots `slug` by hand (its glue with `recipe`, if any) from qemu start to PORTAL-READY; the guest is killed after. */
    const rawBoot = async (slug: string, dirName: string, recipe: Parameters<typeof buildGlueArchive>[0]["recipe"] = null) => {
      const rawDir = path.join(dataDir, dirName);
      const art = await resolveImage(t, store, { slug, source: "clone", diskGb: 10 }, rawDir, { log: () => {} });
      const f = guestFiles(rawDir);
      writeFileSync(f.initrd, Buffer.concat([readFileSync(art.initramfs), await buildGlueArchive({ hostname, nics, authorizedKeys: null, motd: "bench", serviceIps: [], recipe })]));
      const argv = qemuArgv({
        name: hostname, dir: rawDir, vcpus: 1, memoryMb: 1024, kernel: art.kernel, initrd: f.initrd, append: `${guestKernelAppend} loglevel=6`, disk: art.disk,
        nics: nics.map((n) => ({ mac: n.mac, tap: null })), accel: "tcg",
      } as Parameters<typeof qemuArgv>[0]);
      const started = Date.now();
      const q = spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
      await new Promise((r) => q.once("exit", r));
      const serial = await until(async () => (existsSync(f.serialLog) ? readFileSync(f.serialLog, "utf8") : ""), (s) => s.split(/\r?\n/).slice(0, -1).some((l) => parseReadyLine(l)), 300_000, `the raw guest's PORTAL-READY (${slug})`, 20);
      const ms = Date.now() - started;
      process.kill(Number(readFileSync(f.pidfile, "utf8").trim()), "SIGKILL");
      const report = serial.split(/\r?\n/).map((l) => parseReadyLine(l)).find(Boolean)!;
      return { ms, argv, report };
    };
    const a = await rawBoot("linux-qemu", "raw");
    raw.ms = a.ms;
    log(`(a) raw: qemu start to PORTAL-READY ${raw.ms} ms  (${a.argv.slice(0, 4).join(" ")} … same argv as the driver)`);

    // (b) the same image through the portal.
    const o0 = Date.now();
    const created = await createOrder(db, actor, { image: "linux-qemu", flavor: "small", name: hostname });
    const ready = await until(() => orderView(db, created.id), (r) => ["ready", "failed"].includes(r.status), 300_000, "the order to be ready", 50);
    const portalMs = Date.now() - o0;
    if (ready.status !== "ready") throw new Error(`order failed: ${JSON.stringify(ready.steps.filter((s) => s.status === "failed"))}`);
    const steps = ready.steps.map((s) => `${s.name} ${s.durationMs ?? "?"}`).join(", ");
    log(`(b) portal: order submitted to ready ${portalMs} ms on ${ready.environment!.host}  (steps in ms: ${steps})`);
    log(`(b) ratio portal / raw: ${(portalMs / raw.ms).toFixed(2)}× (portal overhead ${portalMs - raw.ms} ms)`);

    // (w) the web service: the same golden image with the web recipe (page, busybox httpd set up
    // at boot, answering HTTP), an account and settings; order to ready beside (a)'s raw boot.
    const w0 = Date.now();
    const webOrder = await createOrder(db, actor, {
      image: "web-qemu", flavor: "small", name: "bench-web",
      recipe: { title: "Bench page" },
      accounts: [{ name: "bench", groups: ["deploy"], sshKeys: "" }],
      settings: { sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "bench" } },
    });
    const webReady = await until(() => orderView(db, webOrder.id), (r) => ["ready", "failed"].includes(r.status), 300_000, "the web service order to be ready", 50);
    const webMs = Date.now() - w0;
    if (webReady.status !== "ready") throw new Error(`web service order failed: ${JSON.stringify(webReady.steps.filter((s) => s.status === "failed"))}`);
    const recipeSteps = (webReady.recipe?.steps ?? []).map((s) => `${s.name} ${s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : "?"}`).join(", ");
    log(`(w) web service: order submitted to ready ${webMs} ms on ${webReady.environment!.host}  (wait_ready ${webReady.steps.find((s) => s.name === "wait_ready")?.durationMs ?? "?"} ms; recipe steps in ms: ${recipeSteps})`);
    log(`(w) ratio web service / raw boot: ${(webMs / raw.ms).toFixed(2)}×; web service / plain order (b): ${(webMs / portalMs).toFixed(2)}×`);
    await destroyEnvironment(db, actor, webOrder.id);
    await until(() => orderView(db, webOrder.id), (r) => r.status === "retired" && r.final, 120_000, "the web service to be destroyed", 100);

    // (p) the PostgreSQL database: its image booted by hand (no recipe), the same image with the
    // recipe glued in by hand (initdb, start, owner and database, check: what the guest does for
    // the order), and the catalog item ordered through the portal, in this run.
    if (process.env.BENCH_QEMU_ONLY === "web") log("(p) skipped: BENCH_QEMU_ONLY=web");
    else if (!existsSync(goldenPaths(store, "linux-qemu-postgres").manifest)) {
      log("(p) skipped: the image store has no linux-qemu-postgres (install postgresql-15 and run npm run images:build)");
    } else {
      const pRaw = await rawBoot("linux-qemu-postgres", "raw-db");
      log(`(p) raw: linux-qemu-postgres, qemu start to PORTAL-READY ${pRaw.ms} ms (the image alone: no database set up)`);
      const recipe = postgres.render({ database: "bench", owner: "bench_owner" }, {
        orderId: randomUUID(), orderName: "bench-db", hostname, environmentLabel: hostname,
        addresses: nics.map((n) => ({ ip: n.ip, purpose: n.purpose as "service" | "production" })), secrets: { password: newDatabasePassword() }, uploads: {}, settings: { sysctl: {}, env: {} },
      });
      const pRecipe = await rawBoot("linux-qemu-postgres", "raw-db-recipe", recipe);
      if (pRecipe.report.recipe?.check !== "ok") throw new Error(`the raw database guest's recipe did not pass: ${JSON.stringify(pRecipe.report.recipe)}`);
      log(`(p) raw + recipe: the same image with the recipe glued in by hand, qemu start to PORTAL-READY (check ok) ${pRecipe.ms} ms`);
      const d0 = Date.now();
      const dbOrder = await createOrder(db, actor, { image: "linux-qemu-postgres", flavor: "small", name: "bench-db", recipe: { database: "bench", owner: "bench_owner" } });
      const dbReady = await until(() => orderView(db, dbOrder.id), (r) => ["ready", "failed"].includes(r.status), 600_000, "the database order to be ready", 50);
      const dbMs = Date.now() - d0;
      if (dbReady.status !== "ready") throw new Error(`database order failed: ${JSON.stringify(dbReady.steps.filter((st) => st.status === "failed"))}`);
      log(`(p) portal: PostgreSQL database order submitted to ready ${dbMs} ms  (steps in ms: ${dbReady.steps.map((st) => `${st.name} ${st.durationMs ?? "?"}`).join(", ")}; recipe steps: ${dbReady.recipe?.steps.map((st) => st.name).join(", ")})`);
      log(`(p) ratio portal / raw image boot: ${(dbMs / pRaw.ms).toFixed(2)}×; portal / raw boot with the recipe: ${(dbMs / pRecipe.ms).toFixed(2)}×; the recipe itself adds ${pRecipe.ms - pRaw.ms} ms to a raw boot`);
      await destroyEnvironment(db, actor, dbOrder.id);
      await until(() => orderView(db, dbOrder.id), (r) => r.status === "retired" && r.final, 120_000, "the database environment to be destroyed", 100);
    }
    if (process.env.BENCH_QEMU_ONLY === "web" || process.env.BENCH_QEMU_ONLY === "database") {
      log(`(c), (e), (f), (d) skipped: BENCH_QEMU_ONLY=${process.env.BENCH_QEMU_ONLY}`);
      await destroyEnvironment(db, actor, created.id);
      await until(() => orderView(db, created.id), (r) => r.status === "retired" && r.final, 120_000, "the environment to be destroyed", 100);
      return;
    }

    // (c) live migration to the other host.
    const envId = ready.environment!.id;
    const from = ready.environment!.host;
    const target = from === "qemu-1" ? "qemu-2" : "qemu-1";
    const m0 = Date.now();
    const asked = await requestMigration(db, actor, envId, target);
    const action = await actionDone(asked.id, "the migration");
    const wall = Date.now() - m0;
    const r = action.result as { totalMs: number; downtimeMs: number | null; transferredBytes: number | null };
    log(`(c) live migration ${from} -> ${target}: QEMU total ${r.totalMs} ms, downtime ${r.downtimeMs} ms, ${((r.transferredBytes ?? 0) / 1048576).toFixed(1)} MiB; request to done ${wall} ms`);

    // (e) backup, verification, restore and snapshot of that guest (now on `target`): each as
    // the API asks for it (request to the action's end) beside the raw QEMU operation on the same
    // guest's disk, in this run. The portal's backup also boots its copy (verification) before
    // its action ends, so its "written" time is taken when the backup row is marked done.
    const f2 = guestFiles(path.join(dataDir, target, "guests", hostname));
    const rows: { op: string; portal: number; raw: number; note: string }[] = [];
    // Raw backup: QMP drive-backup (sync full) of the running guest's disk, then gzip and sha256.
    const rawCopy = path.join(dataDir, "raw-backup.qcow2");
    const rb0 = Date.now();
    await withQmp(t, f2.qmp, async (qmp) => {
      const drive = (await qmp.execute<{ device: string; inserted?: { file: string } }[]>("query-block")).find((b) => b.inserted?.file === f2.disk);
      if (!drive) throw new Error(`QEMU has no drive for ${f2.disk}`);
      const done = qmp.waitEvent("BLOCK_JOB_COMPLETED", 600_000);
      await qmp.execute("drive-backup", { "job-id": "bench-raw", device: drive.device, target: rawCopy, sync: "full", format: "qcow2" });
      if (!(await done)) throw new Error("the raw drive-backup did not complete");
    });
    const rawCopyMs = Date.now() - rb0;
    const rawPacked = gzipSync(readFileSync(rawCopy));
    const rawGzMs = Date.now() - rb0 - rawCopyMs;
    const h0 = Date.now();
    const rawSha = createHash("sha256").update(rawPacked).digest("hex");
    const rawShaMs = Date.now() - h0;
    const rawGz = path.join(dataDir, "raw-backup.qcow2.gz");
    writeFileSync(rawGz, rawPacked);
    const rawBackupMs = Date.now() - rb0;
    // Portal backup. Its verification boots the copy on a network namespace of its own, which a
    // user-mode host cannot give: the guest's host is a bridge host (root) for backup and verify.
    const [targetHost] = await db.select().from(hosts).where(eq(hosts.name, target));
    const userConfig = targetHost!.config as Record<string, unknown>;
    await db.update(hosts).set({ config: { ...userConfig, network: "bridge" } as never }).where(eq(hosts.name, target));
    const pb0 = Date.now();
    const b = await requestBackup(db, actor, envId);
    verifyProbe = b.id.replace(/-/g, "").slice(0, 8);
    const bAction = await actionDone(b.actionId, "the backup");
    const bAll = Date.now() - pb0;
    const [bRow] = await db.select().from(backups).where(eq(backups.id, b.id));
    const bWritten = bRow!.finishedAt!.getTime() - pb0;
    const bResult = bAction.result as { sizeBytes: number; verified: boolean };
    rows.push({ op: "backup (disk copy + gzip + sha256)", portal: bWritten, raw: rawBackupMs, note: `raw: drive-backup ${rawCopyMs} + gzip ${rawGzMs} + sha256 ${rawShaMs} ms; size portal ${bResult.sizeBytes} B, raw ${rawPacked.length} B` });
    const bVerified = bResult.verified ? "booted and read back" : `${(await db.select().from(backups).where(eq(backups.id, b.id)))[0]!.verifyNote}`;
    // Verification: the portal boots the copy in a throwaway guest and reads its marker back;
    // raw: the checks short of a boot (sha256, gunzip, qemu-img check).
    const rv0 = Date.now();
    const packedAgain = readFileSync(rawGz);
    if (createHash("sha256").update(packedAgain).digest("hex") !== rawSha) throw new Error("the raw backup's checksum changed");
    const rawCheck = path.join(dataDir, "raw-check.qcow2");
    writeFileSync(rawCheck, gunzipSync(packedAgain));
    execFileSync("qemu-img", ["check", "-q", rawCheck]);
    const rawVerifyMs = Date.now() - rv0;
    rows.push({ op: "backup action to done (+ boot check)", portal: bAll, raw: rawBackupMs + rawVerifyMs + raw.ms, note: `${bVerified}; raw: backup + checks + (a)'s raw boot` });
    const pv0 = Date.now();
    const v = await requestVerification(db, actor, envId, b.id);
    const vAction = await actionDone(v.id, "the verification");
    const verifyMs = Date.now() - pv0;
    await db.update(hosts).set({ config: userConfig as never }).where(eq(hosts.name, target));
    rows.push({ op: "verify (boot the copy)", portal: verifyMs, raw: rawVerifyMs + raw.ms, note: `verified ${(vAction.result as { verified: boolean }).verified}; raw: sha256 + gunzip + qemu-img check ${rawVerifyMs} ms + (a)'s raw boot` });
    // Restore in place: the portal checks, stops the guest, swaps the disk and boots it to ready;
    // raw: the same disk work on a scratch file (sha256, gunzip, write, qemu-img check), no stop or boot.
    const rr0 = Date.now();
    const again = readFileSync(rawGz);
    if (createHash("sha256").update(again).digest("hex") !== rawSha) throw new Error("the raw backup's checksum changed");
    const rawRestored = path.join(dataDir, "raw-restore.qcow2");
    writeFileSync(rawRestored, gunzipSync(again));
    execFileSync("qemu-img", ["check", "-q", rawRestored]);
    const rawRestoreMs = Date.now() - rr0;
    const pr0 = Date.now();
    const rs = await requestRestore(db, actor, envId, { backup: b.id, mode: "in-place" });
    if (!("id" in rs)) throw new Error("an in-place restore answered with an order");
    await actionDone(rs.id, "the restore");
    rows.push({ op: "restore in place (to ready)", portal: Date.now() - pr0, raw: rawRestoreMs + raw.ms, note: `portal stops, swaps, boots; raw: sha256 + gunzip + write + qemu-img check ${rawRestoreMs} ms + (a)'s raw boot` });
    // Snapshot of the running guest: raw savevm over QMP (deleted again), then the portal's.
    const rs0 = Date.now();
    await withQmp(t, f2.qmp, (q) => q.execute<string>("human-monitor-command", { "command-line": "savevm bench-raw" }, 300_000));
    const rawSnapMs = Date.now() - rs0;
    await withQmp(t, f2.qmp, (q) => q.execute<string>("human-monitor-command", { "command-line": "delvm bench-raw" }, 120_000));
    const ps0 = Date.now();
    const sn = await requestSnapshot(db, actor, envId, "bench");
    await actionDone(sn.id, "the snapshot");
    rows.push({ op: "snapshot (running: savevm)", portal: Date.now() - ps0, raw: rawSnapMs, note: "raw: QMP human-monitor-command savevm" });
    log(`(e) ${"operation".padEnd(38)} ${"portal ms".padStart(10)} ${"raw ms".padStart(9)} ${"ratio".padStart(7)}  notes`);
    for (const r of rows) log(`(e) ${r.op.padEnd(38)} ${String(r.portal).padStart(10)} ${String(r.raw).padStart(9)} ${`${(r.portal / r.raw).toFixed(2)}×`.padStart(7)}  ${r.note}`);

    // Done: the portal destroys the guest (QEMU, CPU cgroup, files, packed image).
    await destroyEnvironment(db, actor, created.id);
    await until(() => orderView(db, created.id), (r) => r.status === "retired" && r.final, 120_000, "the environment to be destroyed", 100);

    // (f) evacuation: two guests on qemu-1 (qemu-2 takes no orders meanwhile), then qemu-1 evacuated to qemu-2.
    await db.update(hosts).set({ state: "draining" }).where(eq(hosts.name, "qemu-2"));
    const pair = await Promise.all(evacuees.map((name) => createOrder(db, actor, { image: "linux-qemu", flavor: "small", name })));
    for (const [i, o] of pair.entries()) {
      const r = await until(() => orderView(db, o.id), (v) => ["ready", "failed"].includes(v.status), 300_000, `${evacuees[i]} to be ready`, 100);
      if (r.status !== "ready" || r.environment?.host !== "qemu-1") throw new Error(`(f) ${evacuees[i]} is ${r.status} on ${r.environment?.host ?? "no host"}, not ready on qemu-1`);
    }
    await db.update(hosts).set({ state: "active" }).where(eq(hosts.name, "qemu-2"));
    const [source] = await db.select().from(hosts).where(eq(hosts.name, "qemu-1"));
    const ev0 = Date.now();
    const evac = await requestEvacuation(db, actor, source!.id, { parallel: 2 });
    const evacuated = await until(() => evacuationView(db, evac.id), (v) => v.status !== "running", 600_000, "the evacuation", 20);
    const evacMs = Date.now() - ev0;
    if (evacuated.status !== "completed") throw new Error(`(f) the evacuation ended ${evacuated.status}: ${evacuated.moves.map((m) => `${m.environment.hostname}: ${m.reason}`).join("; ")}`);
    const [after] = await db.select({ state: hosts.state }).from(hosts).where(eq(hosts.id, source!.id));
    log(`(f) evacuation of qemu-1 (2 running guests, 2 at a time) to qemu-2: request to ${after!.state} and empty ${evacMs} ms`);
    for (const m of evacuated.moves) {
      log(`(f)   ${m.environment.hostname}: ${m.mode} migration, QEMU total ${m.totalMs} ms, downtime ${m.downtimeMs} ms; move started ${Date.parse(m.startedAt!) - ev0} ms after the request, took ${m.durationMs} ms`);
    }
    for (const o of pair) await destroyEnvironment(db, actor, o.id);
    for (const o of pair) await until(() => orderView(db, o.id), (r) => r.status === "retired" && r.final, 120_000, "the evacuated guests to be destroyed", 100);

    // (s) a service IP moving between two guests of one host, watched from the host's namespace.
    if (process.getuid?.() !== 0) {
      log("(s) skipped: guests in a network namespace the host can ping from need root");
    } else {
      // qemu-1 takes both (the evacuation left it offline), in a network namespace (bridge mode).
      await db.update(hosts).set({ state: "active", config: { workDir: path.join(dataDir, "qemu-1"), imageStore: store, network: "bridge" } as never }).where(eq(hosts.name, "qemu-1"));
      await db.update(hosts).set({ state: "draining" }).where(eq(hosts.name, "qemu-2"));
      const pair = await Promise.all(["bench-q3", "bench-q4"].map((name) => createOrder(db, actor, { image: "linux-qemu", flavor: "small", name })));
      const views = await Promise.all(pair.map((o) => until(() => orderView(db, o.id), (r) => ["ready", "failed"].includes(r.status), 300_000, `order ${o.id} to be ready`, 100)));
      for (const v of views) if (v.status !== "ready") throw new Error(`order ${v.name} failed: ${JSON.stringify(v.steps.filter((st) => st.status === "failed"))}`);
      const sip = await reserveServiceIp(db, actor, { network: "service", name: "bench-web", group: "default" });
      const moveTo = async (environment: string) => {
        const w0 = Date.now();
        const asked = await requestServiceIpAttach(db, actor, sip.id, { environment });
        await actionDone(asked.body.actionId!, "the service IP change");
        const [m] = await db.select().from(serviceIpMoves).where(eq(serviceIpMoves.id, asked.body.moveId!));
        return { ...m!, wallMs: Date.now() - w0 };
      };
      const first = await moveTo(views[0]!.environment!.id);
      log(`(s) service IP ${sip.ip}: attached to ${views[0]!.name} in ${first.totalMs} ms (${first.note})`);
      const downtimes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const to = views[(i + 1) % 2]!;
        const m = await moveTo(to.environment!.id);
        if (m.downtimeMs === null) throw new Error(`the move to ${to.name} has no downtime: ${m.note}`);
        downtimes.push(m.downtimeMs);
        log(`(s) move ${i + 1} to ${to.name}: downtime ${m.downtimeMs} ms, move ${m.totalMs} ms, request to done ${m.wallMs} ms`);
      }
      const sorted = [...downtimes].sort((a, b) => a - b);
      log(`(s) service IP move downtime over ${sorted.length} moves: min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms (ping every 20 ms from the host's namespace)`);
      for (const o of pair) await destroyEnvironment(db, actor, o.id);
      for (const o of pair) await until(() => orderView(db, o.id), (r) => r.status === "retired" && r.final, 120_000, `order ${o.id} to be destroyed`, 100);
      await db.update(hosts).set({ state: "active" }).where(eq(hosts.name, "qemu-2"));
    }

    // (d) the same order on a QEMU host reached over SSH.
    if (process.getuid?.() !== 0 || !sshdAvailable()) {
      log("(d) skipped: an SSH host on loopback needs root (its login user is a system user) and openssh-server");
    } else {
      sshd = await startSshd({ port: Number(process.env.BENCH_SSHD_PORT || 2249) });
      // Its own store, outside the bench's private folder, owned by the SSH user.
      sshStore = mkdtempSync("/tmp/pbq-ssh-");
      const golden = goldenPaths(sshStore, "linux-qemu").dir;
      execFileSync("mkdir", ["-p", path.dirname(golden)]);
      execFileSync("cp", ["-a", goldenPaths(store, "linux-qemu").dir, golden]);
      execFileSync("chown", ["-R", `${sshd.user}:`, sshStore]);
      await db.update(hosts).set({ state: "draining" }).where(eq(hosts.kind, "qemu"));
      const id = randomUUID();
      await db.insert(hosts).values({
        id, name: "qemu-ssh", kind: "qemu", address: sshd.host, port: sshd.port, sshUser: sshd.user,
        sshPrivateKey: encryptHostSecret(id, sshd.privateKey), hostKeyFingerprint: sshd.hostKeyFingerprint,
        cpuCapacity: 2, memoryMbCapacity: 4096, diskGbCapacity: 200, features: ["vms"],
        config: { workDir: sshd.workDir, imageStore: sshStore, network: "user" } as never,
      });
      const s0 = Date.now();
      const overSsh = await createOrder(db, actor, { image: "linux-qemu", flavor: "small", name: "bench-q2" });
      const sshReady = await until(() => orderView(db, overSsh.id), (r) => ["ready", "failed"].includes(r.status), 300_000, "the SSH order to be ready", 50);
      const sshMs = Date.now() - s0;
      if (sshReady.status !== "ready") throw new Error(`order over SSH failed: ${JSON.stringify(sshReady.steps.filter((s) => s.status === "failed"))}`);
      log(`(d) over SSH: order submitted to ready ${sshMs} ms on ${sshReady.environment!.host} (${sshd.user}@${sshd.host}:${sshd.port})  (steps in ms: ${sshReady.steps.map((s) => `${s.name} ${s.durationMs ?? "?"}`).join(", ")})`);
      log(`(d) ratio SSH / local order: ${(sshMs / portalMs).toFixed(2)}×`);
      await destroyEnvironment(db, actor, overSsh.id);
      await until(() => orderView(db, overSsh.id), (r) => r.status === "retired" && r.final, 120_000, "the SSH environment to be destroyed", 100);
    }
  } finally {
    // Whatever a failed run left: QEMU processes under the bench's folder, the guest's CPU cgroups.
    const ps = await t.run(["ps", "-ww", "-eo", "pid=,args="]);
    for (const m of ps.stdout.matchAll(/^\s*(\d+)\s+(.*)$/gm)) {
      if (m[2]!.includes("qemu-system") && m[2]!.includes(`${dataDir}/`)) await t.run(["kill", "-KILL", m[1]!]);
    }
    for (const h of await db.select().from(hosts).where(eq(hosts.kind, "qemu"))) {
      for (const name of [hostname, ...evacuees, "bench-q3", "bench-q4", "bench-db"]) await removeCgroup(t, cgroupName(hostKey(h), name)).catch(() => false);
      // The bridge-mode host's namespace (s).
      await t.run(["ip", "netns", "delete", netnsName(h)]).catch(() => null);
      if (verifyProbe) await removeCgroup(t, cgroupName(hostKey(h), `verify-${verifyProbe}`)).catch(() => false);
    }
    // The backup verification's namespace, should a failed run have left it.
    if (verifyProbe) await t.run(["ip", "netns", "delete", `portal-verify-${verifyProbe}`]).catch(() => null);
    await workers.stop();
    await closeSshConnections().catch(() => {});
    if (sshd) {
      const left = await t.run(["ps", "-ww", "-eo", "pid=,args="]);
      for (const m of left.stdout.matchAll(/^\s*(\d+)\s+(.*)$/gm)) {
        if (m[2]!.includes("qemu-system") && m[2]!.includes(`${sshd.workDir}/`)) await t.run(["kill", "-KILL", m[1]!]);
      }
      await sshd.stop();
    }
    if (sshStore) rmSync(sshStore, { recursive: true, force: true });
    await closeQueues().catch(() => {});
    await closeRedis().catch(() => {});
    await closeDb().catch(() => {});
    await deleteRedisKeys(redisUrl, prefix);
    await dropDatabase(adminUrl, dbName);
    rmSync(dataDir, { recursive: true, force: true });
    for (const k of existsSync(path.join(store, "packed")) ? readdirSync(path.join(store, "packed")) : []) {
      if ([hostname, ...evacuees, "bench-q3", "bench-q4"].some((name) => k.startsWith(`${name}-`)) || k.startsWith("bench-web-") || k.startsWith("bench-db-")) rmSync(path.join(store, "packed", k), { recursive: true, force: true });
    }
  }
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(`[bench qemu] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
