/**
 * Image versions and a patch campaign on real QEMU guests. Version 1 is the built test image;
 * version 2 is a new build of the same recipe (its initramfs carries its own build stamp) with a
 * changelog line; registering it again changes nothing. Two environments on version 1, each
 * with a file its owner wrote to /data over SSH, are updated by a campaign in two waves of one:
 * both end on version 2 (the guest says so in /etc/os-release-portal, with version 2's build
 * stamp), not outdated, with the file, their addresses and MACs. Then version 3, a broken build
 * (its /init cannot run: the kernel panics, QEMU exits; checksums registered like any build),
 * stops a campaign by itself after its first wave (threshold 0): the second environment is
 * untouched, and the rollback brings the first back on version 2 from its backup, file and all.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as campaignsRoute from "@/app/api/v1/campaigns/route";
import * as campaignRoute from "@/app/api/v1/campaigns/[id]/route";
import * as rollbackRoute from "@/app/api/v1/campaigns/[id]/rollback/route";
import * as versionsRoute from "@/app/api/v1/images/[id]/versions/route";
import { hosts, images } from "@/lib/db/schema";
import { registerBuiltImages } from "@/lib/catalog/register-images";
import { buildGoldenImage } from "@/lib/drivers/images/build";
import { gzipCpio } from "@/lib/drivers/images/cpio";
import { digestFiles, writeManifest } from "@/lib/drivers/images/manifest";
import { goldenPaths } from "@/lib/drivers/images/store";
import type { GoldenManifest } from "@/lib/drivers/images/types";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder } from "../helpers/portal";
import { guestFiles, local, netnsName, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";
import { testImageStore } from "../helpers/images";
import { guestSsh, pinHostKeyFromConsole, putOwnerKey } from "../helpers/guest-ssh";

const { db, admin } = await bootPortal();
const BOOT_MS = 240_000;
const keyDir = mkdtempSync("/tmp/pq-camp-");
const ownerKey = path.join(keyDir, "owner");
// The versions this test makes live in a store of its own (the shared test store keeps its build).
const store = mkdtempSync("/tmp/pq-camp-store-");
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: string;
let adminToken: string;
let imageId: string;

type Env = { orderId: string; environmentId: string; hostname: string; address: string; addresses: string[]; note: string; knownHosts: string };
const envs: Env[] = [];

type OrderView = {
  status: string;
  environment: { id: string; host: string; hostname: string; state: string; imageVersion: number | null; outdated: boolean; addresses: { purpose: string; ip: string; mac: string }[] };
};
type CampaignView = {
  id: string; status: string; reason: string | null; canRollback: boolean; final: boolean;
  waves: { number: number; done: number; failed: number; durationMs: number | null }[];
  targets: { environmentId: string; status: string; wave: number | null; error: string | null; imageVersion: number | null; timings: Record<string, number | null> }[];
};

async function getOrder(e: Env): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${e.orderId}`, { token, params: { id: e.orderId } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

const addressesOf = (v: OrderView) => v.environment.addresses.map((a) => `${a.purpose} ${a.ip} ${a.mac}`).sort();

/** SSH as the owner, the host key pinned from the guest's console at its latest boot. */
async function ssh(e: Env, command: string, input?: string) {
  const view = await getOrder(e);
  const host = qemu.hosts.find((h) => h.name === view.environment.host)!;
  pinHostKeyFromConsole(guestFiles(qemu.guestDir(host.name, e.hostname)).serialLog, e.address, e.knownHosts);
  return guestSsh({ netns: netnsName(host), address: e.address, key: ownerKey, knownHosts: e.knownHosts }, command, input);
}

async function campaign(id: string): Promise<CampaignView> {
  const res = await invoke(campaignRoute.GET, "GET", `/api/v1/campaigns/${id}`, { token: adminToken, params: { id } });
  expect(res.status).toBe(200);
  return res.body as CampaignView;
}

const waitCampaign = (id: string, done: (c: CampaignView) => boolean, what: string, timeoutMs = 6 * BOOT_MS) =>
  waitFor(() => campaign(id), done, { timeoutMs, intervalMs: 500, what });

/** The guest's own word on the image it runs: /etc/os-release-portal as a map. */
async function osRelease(e: Env): Promise<Record<string, string>> {
  const r = await ssh(e, "cat /etc/os-release-portal");
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
}

async function versions() {
  const res = await invoke(versionsRoute.GET, "GET", `/api/v1/images/${imageId}/versions`, { token, params: { id: imageId } });
  expect(res.status).toBe(200);
  return res.body.versions as { number: number; current: boolean; changelog: string; builtAt: string; checksums: Record<string, { sha256: string }> }[];
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  qemu = await setupQemuHosts(db, 1, { imageStore: store });
  // The built test image and the builds it keeps, in this test's store (hard links: no copying).
  for (const dir of ["golden", "versions", "cache"]) {
    if (existsSync(path.join(testImageStore, dir))) execFileSync("cp", ["-al", path.join(testImageStore, dir), path.join(store, dir)]);
  }
  const again = await registerBuiltImages(db, local, store);
  expect(again.find((r) => r.slug === "linux-qemu")).toMatchObject({ version: 1, newVersions: [] });
  [{ id: imageId }] = await db.select({ id: images.id }).from(images).where(eq(images.slug, "linux-qemu"));

  const group = await makeGroup(db, { autoApprove: true });
  token = await tokenFor(db, await makeUser(db, "customer", group.slug));
  adminToken = await tokenFor(db, admin);
  await putOwnerKey(token, ownerKey);
  worker = await startWorkers();

  const names = [unique("camp-a"), unique("camp-b")];
  const created = await Promise.all(names.map((name) => invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-qemu", flavor: "small", name } })));
  for (const [i, res] of created.entries()) {
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await waitForOrder(db, res.body.id, ["ready", "failed"], BOOT_MS);
    const e: Env = { orderId: res.body.id, environmentId: "", hostname: names[i]!, address: "", addresses: [], note: `kept by the campaign ${unique("note")}\n`, knownHosts: path.join(keyDir, `known_hosts_${i}`) };
    const view = await getOrder(e);
    expect(view.status).toBe("ready");
    expect(view.environment).toMatchObject({ imageVersion: 1, outdated: false });
    Object.assign(e, { environmentId: view.environment.id, address: view.environment.addresses.find((a) => a.purpose === "service")!.ip, addresses: addressesOf(view) });
    const wrote = await ssh(e, "cat > /data/campaign-note.txt && sync", e.note);
    expect(wrote.code, wrote.stderr).toBe(0);
    envs.push(e);
  }
}, 3 * BOOT_MS);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
  rmSync(store, { recursive: true, force: true });
}, 60_000);

describe("image versions and patch campaigns on QEMU", () => {
  let v2BuiltAt = "";

  it("a new build of the image with a changelog line is version 2; registering it again changes nothing", async () => {
    const started = Date.now();
    const build = await buildGoldenImage(local, store, { log: () => {} }, { slug: "linux-qemu", force: true, changelog: "Rebuilt for the patch night: new build stamp" });
    console.log(`[measured] forced build of version 2: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(build.reused).toBe(false);
    const registered = await registerBuiltImages(db, local, store);
    expect(registered.find((r) => r.slug === "linux-qemu")).toMatchObject({ version: 2, newVersions: [2] });
    expect((await registerBuiltImages(db, local, store)).find((r) => r.slug === "linux-qemu")).toMatchObject({ version: 2, newVersions: [] });

    const list = await versions();
    expect(list.map((v) => [v.number, v.current])).toEqual([[2, true], [1, false]]);
    expect(list[0]!.changelog).toBe("Rebuilt for the patch night: new build stamp");
    expect(list[0]!.checksums["initramfs.cpio.gz"]!.sha256).not.toBe(list[1]!.checksums["initramfs.cpio.gz"]!.sha256);
    v2BuiltAt = build.manifest.builtAt;
    expect(list[0]!.builtAt).toBe(new Date(v2BuiltAt).toISOString());
    for (const e of envs) expect((await getOrder(e)).environment).toMatchObject({ imageVersion: 1, outdated: true });
    expect(await osRelease(envs[0]!)).toMatchObject({ PORTAL_IMAGE: "linux-qemu", PORTAL_IMAGE_VERSION: "1" });
  }, 60_000);

  it("a campaign in waves of one updates both environments to version 2, keeping /data, addresses and MACs", async () => {
    const started = Date.now();
    const res = await invoke(campaignsRoute.POST, "POST", "/api/v1/campaigns", {
      token: adminToken,
      body: {
        image: "linux-qemu", version: 2, targets: { environments: envs.map((e) => e.environmentId) },
        window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date(Date.now() + 3600_000).toISOString() },
        waveSize: 1, failureThreshold: { count: 0 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await waitCampaign(res.body.id, (c) => c.status !== "running" && c.status !== "scheduled", "the campaign to finish");
    console.log(`[measured] campaign to version 2: ${((Date.now() - started) / 1000).toFixed(1)} s; waves ${done.waves.map((w) => `${w.number}: ${((w.durationMs ?? 0) / 1000).toFixed(1)} s`).join(", ")}; per environment ${done.targets.map((t) => JSON.stringify(t.timings)).join(" ")}`);
    expect(done.status, `${done.reason} ${JSON.stringify(done.targets.map((t) => t.error))}`).toBe("completed");
    expect(done.targets.map((t) => [t.status, t.wave, t.imageVersion])).toEqual([["done", 1, 2], ["done", 2, 2]]);
    expect(done.waves.map((w) => [w.number, w.done, w.failed])).toEqual([[1, 1, 0], [2, 1, 0]]);
    for (const e of envs) {
      const view = await getOrder(e);
      expect(view).toMatchObject({ status: "ready", environment: { imageVersion: 2, outdated: false, state: "running" } });
      expect(addressesOf(view)).toEqual(e.addresses);
      const kept = await ssh(e, "cat /data/campaign-note.txt");
      expect(kept).toMatchObject({ code: 0, stdout: e.note });
      // The guest runs version 2's own files: its build stamp is version 2's.
      expect(await osRelease(e)).toMatchObject({ PORTAL_IMAGE_VERSION: "2", PORTAL_IMAGE_BUILT: v2BuiltAt });
    }
  }, 6 * BOOT_MS);

  it("a broken version 3 stops the campaign after its first wave; the rollback restores the failed one on version 2 from its backup", async () => {
    // Version 3: version 2's kernel and disk with an initramfs whose /init cannot run.
    const golden = goldenPaths(store, "linux-qemu");
    // A new file, not a write through the hard link version 2 keeps of it.
    rmSync(golden.initramfs);
    writeFileSync(golden.initramfs, gzipCpio([
      { type: "dir", path: "dev" },
      { type: "char", path: "dev/console", major: 5, minor: 1 },
      { type: "file", path: "init", data: "#!/bin/no-such-shell\n", mode: 0o755 },
    ]));
    const manifest: GoldenManifest = {
      slug: "linux-qemu", kernelVersion: "broken", recipeHash: "0".repeat(64), builtAt: new Date().toISOString(),
      files: await digestFiles(local, golden.dir, ["vmlinuz", "initramfs.cpio.gz", "disk.qcow2"]), changelog: "Broken on purpose: its /init does not start",
    };
    await writeManifest(local, golden.dir, manifest);
    expect((await registerBuiltImages(db, local, store)).find((r) => r.slug === "linux-qemu")).toMatchObject({ version: 3, newVersions: [3] });
    // A broken guest is given up on quickly (QEMU exits at the kernel's panic anyway).
    const host = qemu.hosts[0]!;
    await db.update(hosts).set({ config: { ...(host.config as object), readyTimeoutMs: 30_000 } }).where(eq(hosts.id, host.id));

    const started = Date.now();
    const res = await invoke(campaignsRoute.POST, "POST", "/api/v1/campaigns", {
      token: adminToken,
      body: {
        image: "linux-qemu", targets: { outdated: true },
        window: { start: new Date(Date.now() - 1000).toISOString(), end: new Date(Date.now() + 3600_000).toISOString() },
        waveSize: 1, failureThreshold: { count: 0 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    const order = (res.body.targets as { environmentId: string }[]).map((t) => envs.find((e) => e.environmentId === t.environmentId)!);
    const stopped = await waitCampaign(id, (c) => c.status === "stopped" || c.status === "completed", "the campaign to stop by itself");
    console.log(`[measured] broken campaign stopped after ${((Date.now() - started) / 1000).toFixed(1)} s; wave 1 ${((stopped.waves[0]?.durationMs ?? 0) / 1000).toFixed(1)} s ${JSON.stringify(stopped.targets[0]!.timings)}: ${stopped.targets[0]!.error}`);
    expect(stopped.status).toBe("stopped");
    expect(stopped.reason).toMatch(/Wave 1: 1 of 1 environment failed/);
    expect(stopped.targets.map((t) => [t.status, t.wave])).toEqual([["failed", 1], ["pending", null]]);
    expect(stopped.targets[0]!.error).toMatch(/Wait until ready/);
    expect(stopped.canRollback).toBe(true);
    const [failed, untouched] = order as [Env, Env];
    expect((await getOrder(failed)).status).toBe("failed");
    // The second one never left version 2: running, reachable, its file there.
    expect((await getOrder(untouched)).environment).toMatchObject({ imageVersion: 2, state: "running", outdated: true });
    expect(await ssh(untouched, "cat /data/campaign-note.txt")).toMatchObject({ code: 0, stdout: untouched.note });

    await db.update(hosts).set({ config: host.config }).where(eq(hosts.id, host.id));
    const rollbackStarted = Date.now();
    const rolled = await invoke(rollbackRoute.POST, "POST", `/api/v1/campaigns/${id}/rollback`, { token: adminToken, params: { id } });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    const back = await waitCampaign(id, (c) => c.final, "the rollback to finish", 3 * BOOT_MS);
    console.log(`[measured] rollback from the backup: ${((Date.now() - rollbackStarted) / 1000).toFixed(1)} s`);
    expect(back.targets[0], JSON.stringify(back.targets[0])).toMatchObject({ status: "rolled_back", imageVersion: 2 });
    const view = await getOrder(failed);
    expect(view).toMatchObject({ status: "ready", environment: { imageVersion: 2, state: "running", outdated: true } });
    expect(addressesOf(view)).toEqual(failed.addresses);
    expect(await ssh(failed, "cat /data/campaign-note.txt")).toMatchObject({ code: 0, stdout: failed.note });
    expect(await osRelease(failed)).toMatchObject({ PORTAL_IMAGE_VERSION: "2", PORTAL_IMAGE_BUILT: v2BuiltAt });
  }, 8 * BOOT_MS);
});
