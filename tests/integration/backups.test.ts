/**
 * Backups and in-place restores of delivered environments through the API, on the sim
 * driver: a backup is a compressed file in the backup store whose sha256 the list shows, proven
 * right away by booting it and reading back the marker it wrote; a stopped guest's backup has no
 * marker and says so; a second backup while one runs is refused with 409 naming it; a restore brings the
 * environment back in place; a file changed in the store is found damaged and never restored;
 * who may do what; every request audited. (The real guest: qemu-backup.test.ts.)
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import * as restoreRoute from "@/app/api/v1/environments/[id]/restore/route";
import * as verifyRoute from "@/app/api/v1/environments/[id]/backups/[bid]/verify/route";
import { auditEvents, environmentActions, environments, hosts, simObjects } from "@/lib/db/schema";
import { backupStoreDir } from "@/lib/env";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { restoreClones } from "@/lib/backups/clone";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder, type Actor, waitForAction } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
let owner: Actor;
let token: { owner: string; other: string; admin: string; approver: string };
let envId: string;
let hostname: string;
let stoppedBackup: string;
let originalIps: string[];

type BackupItem = { id: string; status: string; sizeBytes: number | null; sha256: string | null; verified: boolean; note: string | null };

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  owner = await makeUser(db, "customer", auto.slug);
  token = {
    owner: await tokenFor(db, owner),
    other: await tokenFor(db, await makeUser(db, "customer", auto.slug)),
    admin: await tokenFor(db, admin),
    approver: await tokenFor(db, await makeUser(db, "approver", auto.slug)),
  };
  worker = await startWorkers();
  const view = await waitForOrder(db, (await order(db, owner)).id);
  expect(view.status).toBe("ready");
  envId = view.environment!.id;
  hostname = view.environment!.hostname;
  originalIps = view.environment!.addresses.map((a) => a.ip);
  // Each simulated step of this host takes a moment, so a second request sees the first one running.
  const [env] = await db.select().from(environments).where(eq(environments.id, envId));
  await db.update(hosts).set({ config: { stepMs: 1500 } }).where(eq(hosts.id, env.hostId));
});

afterAll(async () => {
  await worker?.stop();
});

const backup = (t: string) => invoke(backupsRoute.POST, "POST", `/api/v1/environments/${envId}/backups`, { token: t, params: { id: envId } });
const list = async (t = token.owner) => {
  const res = await invoke(backupsRoute.GET, "GET", `/api/v1/environments/${envId}/backups`, { token: t, params: { id: envId } });
  return res;
};
const restore = (t: string, body: unknown) => invoke(restoreRoute.POST, "POST", `/api/v1/environments/${envId}/restore`, { token: t, params: { id: envId }, body });

const actionDone = (id: string) => waitForAction(db, id);

function storeFileOf(backupId: string): string {
  const dir = path.join(backupStoreDir, envId);
  const name = readdirSync(dir).find((f) => f.startsWith(backupId));
  if (!name) throw new Error(`no file of backup ${backupId} in ${dir}`);
  return path.join(dir, name);
}

describe("backups", () => {
  let first: string;

  it("the owner backs up a running environment: one at a time, a checksummed file in the store, audited", async () => {
    const res = await backup(token.owner);
    expect(res.status).toBe(202);
    first = res.body.id;
    const second = await backup(token.owner);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatch(/^A backup of this environment is already (queued|in progress); wait until it is done$/);

    expect((await actionDone(res.body.actionId)).status).toBe("succeeded");
    const { body } = await list();
    expect(body.items).toHaveLength(1);
    const item = body.items[0] as BackupItem;
    expect(item).toMatchObject({ id: first, status: "succeeded", verified: true, note: null });
    const file = storeFileOf(first);
    const bytes = readFileSync(file);
    expect(item.sizeBytes).toBe(bytes.length);
    expect(item.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.backup")));
    expect(audit).toHaveLength(1);
  });

  it("a restore in place brings the environment back and is audited with the backup", async () => {
    const res = await restore(token.owner, { backup: first, mode: "in-place" });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ action: "restore", backup: first, mode: "in-place" });
    const busy = await backup(token.owner);
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/^A restore of this environment is already (queued|in progress)/);
    expect((await actionDone(res.body.id)).status).toBe("succeeded");
    const [env] = await db.select().from(environments).where(eq(environments.id, envId));
    expect(env.state).toBe("running");
    const [guest] = await db.select().from(simObjects).where(and(eq(simObjects.kind, "guest"), eq(simObjects.name, hostname)));
    expect(guest.state).toBe("running");
    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, "environment.restore")));
    expect(audit.data).toMatchObject({ backup: first, mode: "in-place" });
  });

  it("a stopped guest's backup holds no marker: not verified, and the list says why; verifying it again on demand says the same", async () => {
    const [env] = await db.select().from(environments).where(eq(environments.id, envId));
    await db.update(environments).set({ state: "stopped" }).where(eq(environments.id, envId));
    await db.update(simObjects).set({ state: "stopped" }).where(and(eq(simObjects.hostId, env.hostId), eq(simObjects.kind, "guest"), eq(simObjects.name, hostname)));
    const res = await backup(token.owner);
    expect(res.status).toBe(202);
    stoppedBackup = res.body.id;
    expect((await actionDone(res.body.actionId)).status).toBe("succeeded");
    const item = ((await list()).body.items as BackupItem[]).find((b) => b.id === res.body.id)!;
    expect(item).toMatchObject({ status: "succeeded", verified: false });
    expect(item.note).toMatch(/^not verified: the backup holds no marker to read back/);

    const again = await invoke(verifyRoute.POST, "POST", "/x", { token: token.owner, params: { id: envId, bid: res.body.id } });
    expect(again.status).toBe(202);
    expect((await actionDone(again.body.id)).status).toBe("succeeded");
    expect(((await list()).body.items as BackupItem[]).find((b) => b.id === res.body.id)!.verified).toBe(false);
    // The first backup, of the running guest, verifies again on demand.
    const proven = await invoke(verifyRoute.POST, "POST", "/x", { token: token.admin, params: { id: envId, bid: first } });
    expect(proven.status).toBe(202);
    expect((await actionDone(proven.body.id)).status).toBe("succeeded");
    expect(((await list()).body.items as BackupItem[]).find((b) => b.id === first)!).toMatchObject({ verified: true, note: null });

    await db.update(environments).set({ state: "running" }).where(eq(environments.id, envId));
    await db.update(simObjects).set({ state: "running" }).where(and(eq(simObjects.hostId, env.hostId), eq(simObjects.kind, "guest"), eq(simObjects.name, hostname)));
  });

  it("a backup whose file changed in the store is shown damaged and never restored", async () => {
    const file = storeFileOf(first);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(file, bytes);

    const res = await restore(token.owner, { backup: first, mode: "in-place" });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/^Backup .* cannot be restored: damaged: its file no longer matches its checksum/);
    const item = ((await list()).body.items as BackupItem[]).find((b) => b.id === first)!;
    expect(item.status).toBe("damaged");
    expect(item.note).toMatch(/no longer matches its checksum/);
    const restores = await db.select().from(environmentActions).where(and(eq(environmentActions.environmentId, envId), eq(environmentActions.action, "restore")));
    expect(restores).toHaveLength(1);
    const [found] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, first), eq(auditEvents.action, "backup.damaged")));
    expect(found).toBeTruthy();
    const verify = await invoke(verifyRoute.POST, "POST", "/x", { token: token.owner, params: { id: envId, bid: first } });
    expect(verify.status).toBe(409);
    expect(verify.body.error).toMatch(/cannot be verified: damaged/);
  });

  it("only the owner and admins; bad requests get 4xx and change nothing", async () => {
    expect((await list(token.approver)).status).toBe(403);
    expect((await list(token.other)).status).toBe(404);
    expect((await backup(token.other)).status).toBe(404);
    expect((await list(token.admin)).status).toBe(200);
    const unnamed = await restore(token.owner, { backup: stoppedBackup, mode: "new" });
    expect(unnamed.status).toBe(422);
    expect(unnamed.body.fields.name).toEqual(["A restore as a new environment needs its name"]);
    const otherMode = await restore(token.owner, { backup: stoppedBackup, mode: "sideways" });
    expect(otherMode.status).toBe(422);
    const unknown = await restore(token.owner, { backup: "00000000-0000-4000-8000-000000000000", mode: "in-place" });
    expect(unknown.status).toBe(404);
    const restores = await db.select().from(environmentActions).where(and(eq(environmentActions.environmentId, envId), eq(environmentActions.action, "restore")));
    expect(restores).toHaveLength(1);
  });

  it("a restore as a new environment places a new order with addresses of its own and restores the backup onto it once delivered", async () => {
    const name = `${hostname.slice(0, 20)}-copy`;
    const res = await restore(token.owner, { backup: stoppedBackup, mode: "new", name });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ backup: stoppedBackup, mode: "new" });
    const copy = await waitForOrder(db, res.body.order.id, ["ready", "failed"], 120_000);
    expect(copy.status).toBe("ready");
    const original = await db.select().from(environments).where(eq(environments.id, envId));
    expect(copy.environment!.hostname).toBe(name);
    expect(copy.environment!.id).not.toBe(original[0].id);
    const copyIps = copy.environment!.addresses.map((a) => a.ip);
    expect(copyIps.length).toBeGreaterThan(0);
    expect(copyIps.filter((ip) => originalIps.includes(ip))).toEqual([]);

    // The reconcile sweep puts the backup on the delivered order.
    expect(await restoreClones(db)).toBe(1);
    const [action] = await db.select().from(environmentActions).where(and(eq(environmentActions.environmentId, copy.environment!.id), eq(environmentActions.action, "restore")));
    const done = await actionDone(action.id);
    expect(done.status, done.error ?? "").toBe("succeeded");
    expect(done.result).toMatchObject({ backup: stoppedBackup, mode: "new" });
    expect(await restoreClones(db)).toBe(0);
  }, 150_000);
});
