/**
 * The "PostgreSQL database" catalog item on a real QEMU guest (TCG), ordered through the API:
 * the guest makes the cluster on /data, starts PostgreSQL 15 and makes the order's owner and
 * database; from the host's side of the guest network (`ip netns exec <host's namespace>
 * psql`, the password in PGPASSWORD, never on a command line) the owner connects with the
 * password shown once; a new password made through the API works and the old one is refused;
 * rows written before a backup are there after an in-place restore, rows written after it are
 * not, and the copy was taken right after the quiesce hook's CHECKPOINT.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as secretsRoute from "@/app/api/v1/orders/[id]/secrets/route";
import * as credentialsRoute from "@/app/api/v1/environments/[id]/credentials/route";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import * as restoreRoute from "@/app/api/v1/environments/[id]/restore/route";
import { auditEvents, environmentActions, images, orderSecrets } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitForAction, waitForOrder } from "../helpers/portal";
import { guestFiles, netnsName, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";
import { guestSsh, pinHostKeyFromConsole, putOwnerKey } from "../helpers/guest-ssh";

const run = promisify(execFile);
const { db } = await bootPortal();
const BOOT_MS = 300_000;
const dir = mkdtempSync("/tmp/pq-pg-");
const ownerKey = path.join(dir, "owner");
const knownHosts = path.join(dir, "known_hosts");
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: string;
let orderId: string;
let password: string;
const timings: Record<string, number> = {};

type OrderView = {
  status: string;
  environment: {
    id: string; host: string; hostname: string; state: string;
    addresses: { purpose: string; ip: string }[];
    connection: { address: string; database?: { engine: string; host: string; port: number; database: string; user: string; command: string } } | null;
  };
  recipe: { slug: string; steps: { name: string; status: string }[]; outputs: { name: string; kind: string; value: string | null }[] } | null;
};

async function view(): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token, params: { id: orderId } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

/** psql from the host's side of the guest network; the password only in the environment. */
async function psql(v: OrderView, secret: string, sql: string): Promise<{ ok: boolean; out: string }> {
  const db = v.environment.connection!.database!;
  const ns = netnsName(qemu.hosts.find((h) => h.name === v.environment.host)!);
  try {
    const { stdout } = await run("ip", ["netns", "exec", ns, "psql", `host=${db.host} port=${db.port} dbname=${db.database} user=${db.user}`, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], {
      env: { ...process.env, PGPASSWORD: secret, PGCONNECT_TIMEOUT: "20" },
      timeout: 60_000,
    });
    return { ok: true, out: stdout.trim() };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

async function ssh(v: OrderView, command: string) {
  const address = v.environment.addresses.find((a) => a.purpose === "service")!.ip;
  return guestSsh({ netns: netnsName(qemu.hosts.find((h) => h.name === v.environment.host)!), address, key: ownerKey, knownHosts }, command);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  qemu = await setupQemuHosts(db, 1);
  const [item] = await db.select().from(images).where(eq(images.slug, "linux-qemu-postgres"));
  if (!item) throw new Error("the test image store has no linux-qemu-postgres build: install postgresql-15 (npm test does) and run again");
  expect(item.recipeSlug).toBe("postgres");
  const group = await makeGroup(db, { autoApprove: true });
  token = await tokenFor(db, await makeUser(db, "customer", group.slug));
  await putOwnerKey(token, ownerKey);
  worker = await startWorkers();

  const started = Date.now();
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", {
    token,
    body: { image: "linux-qemu-postgres", flavor: "small", name: unique("pg"), recipe: { database: "inventory", owner: "inv_app" } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  orderId = res.body.id;
  await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
  timings.orderToReadyMs = Date.now() - started;
  const v = await view();
  expect(v.status).toBe("ready");
  pinHostKeyFromConsole(guestFiles(qemu.guestDir(v.environment.host, v.environment.hostname)).serialLog, v.environment.addresses.find((a) => a.purpose === "service")!.ip, knownHosts);
}, BOOT_MS + 120_000);

afterAll(async () => {
  console.log(`[qemu-postgres] ${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("a PostgreSQL database on a QEMU guest", () => {
  it("is refused with the field named when the database's name is a reserved one", async () => {
    const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", {
      token,
      body: { image: "linux-qemu-postgres", flavor: "small", name: unique("pgbad"), recipe: { database: "template1", owner: "inv_app" } },
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.fields)).toMatch(/database.*every PostgreSQL server has/);
  });

  it("ran its steps, says how to connect, and lets the owner in with the password shown once", async () => {
    const v = await view();
    expect(v.recipe!.steps.map((s) => [s.name, s.status])).toEqual([["initdb", "succeeded"], ["start", "succeeded"], ["database", "succeeded"], ["check", "succeeded"]]);
    expect(Object.fromEntries(v.recipe!.outputs.filter((o) => o.kind !== "secret").map((o) => [o.name, o.value]))).toEqual({ database: "inventory", user: "inv_app", port: "5432" });
    const production = v.environment.addresses.find((a) => a.purpose === "production")!.ip;
    expect(v.environment.connection!.database).toEqual({
      engine: "postgresql", host: production, port: 5432, database: "inventory", user: "inv_app",
      command: `psql "host=${production} port=5432 dbname=inventory user=inv_app"`,
    });

    const shown = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${orderId}/secrets`, { token, params: { id: orderId } });
    password = shown.body.secrets.find((s: { name: string }) => s.name === "password").value;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const who = await psql(v, password, "select current_user || ' ' || current_database() || ' ' || current_setting('server_version_num')");
    expect(who.out).toMatch(/^inv_app inventory 15\d{4}$/);
    expect(await psql(v, `${password}x`, "select 1")).toMatchObject({ ok: false, out: expect.stringContaining('password authentication failed for user "inv_app"') });
    // On the host, the guest's initrd (which holds the verifier) is readable by QEMU's user only.
    const files = guestFiles(qemu.guestDir(v.environment.host, v.environment.hostname));
    for (const f of [files.initrd, files.glue]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    const glue = gunzipSync(readFileSync(files.glue)).toString("latin1");
    expect(glue).toContain("\\set verifier 'SCRAM-SHA-256$4096:");
    expect(glue).not.toContain(password);
    // The password is nowhere in the guest's files: only its SCRAM verifier is.
    const inGuest = await ssh(v, `grep -rlF '${password}' /etc/portal /portal /data/pgdata 2>/dev/null | wc -l; grep -c '^\\\\set verifier .SCRAM-SHA-256' /etc/portal/postgres/database.sql`);
    expect(inGuest.stdout.trim().split("\n")).toEqual(["0", "1"]);
  });

  it("a new password from the API works at once; the old one is refused; the audit has neither", async () => {
    const v = await view();
    const started = Date.now();
    const res = await invoke(credentialsRoute.POST, "POST", `/api/v1/environments/${v.environment.id}/credentials`, { token, params: { id: v.environment.id } });
    timings.rotateMs = Date.now() - started;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const fresh = res.body.password as string;
    expect(fresh).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect((await psql(v, fresh, "select 1")).out).toBe("1");
    expect((await psql(v, password, "select 1")).out).toContain("password authentication failed");

    const [secret] = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, orderId));
    expect(secret).toMatchObject({ value: null, hash: createHash("sha256").update(fresh).digest("hex") });
    const [action] = await db.select().from(environmentActions).where(eq(environmentActions.id, res.body.actionId));
    expect(action).toMatchObject({ action: "credentials", status: "succeeded", hookInput: null });
    const audit = JSON.stringify(await db.select().from(auditEvents).where(eq(auditEvents.targetId, v.environment.id)));
    expect(audit).toContain("environment.credentials.changed");
    expect(audit).not.toContain(fresh);
    password = fresh;
  }, 240_000);

  it("rows written before a backup are there after an in-place restore; rows written after it are not", async () => {
    const v = await view();
    expect((await psql(v, password, "create table stock (item text primary key, qty int); insert into stock select 'before-' || i, i from generate_series(1, 500) i")).ok).toBe(true);
    const started = Date.now();
    const backup = await invoke(backupsRoute.POST, "POST", `/api/v1/environments/${v.environment.id}/backups`, { token, params: { id: v.environment.id } });
    expect(backup.status, JSON.stringify(backup.body)).toBe(202);
    const done = await waitForAction(db, backup.body.actionId, BOOT_MS);
    timings.backupMs = Date.now() - started;
    expect(done.status, done.error ?? "").toBe("succeeded");
    expect((await psql(v, password, "insert into stock select 'after-' || i, i from generate_series(1, 50) i")).ok).toBe(true);

    const restoring = Date.now();
    const restore = await invoke(restoreRoute.POST, "POST", `/api/v1/environments/${v.environment.id}/restore`, {
      token, params: { id: v.environment.id }, body: { backup: backup.body.id, mode: "in-place" },
    });
    expect(restore.status, JSON.stringify(restore.body)).toBe(202);
    const restored = await waitForAction(db, restore.body.id, BOOT_MS);
    timings.restoreMs = Date.now() - restoring;
    expect(restored.status, restored.error ?? "").toBe("succeeded");

    const counts = await psql(v, password, "select count(*) filter (where item like 'before-%') || ' ' || count(*) filter (where item like 'after-%') || ' ' || sum(qty) from stock");
    expect(counts.out).toBe("500 0 125250");
    // The copy's point in time came right after the quiesce hook's CHECKPOINT: in the restored
    // server log, the last checkpoint before this boot's start is that one (immediate, forced).
    const log = await ssh(v, "cat /data/pgdata/server.log");
    const lines = log.stdout.split("\n");
    const lastStart = lines.findLastIndex((l) => /starting PostgreSQL 15/.test(l));
    const lastCheckpoint = lines.slice(0, lastStart).findLast((l) => /checkpoint starting:/.test(l));
    expect(lastCheckpoint).toMatch(/checkpoint starting: immediate force wait/);
    // ... and it was made for this backup (the guest's clock is the host's, in UTC).
    const at = Date.parse(`${lastCheckpoint!.slice(0, 23).replace(" ", "T")}Z`);
    expect(at).toBeGreaterThanOrEqual(started - 5_000);
    expect(at).toBeLessThanOrEqual(Date.now());
  }, 3 * BOOT_MS);
});
