/**
 * Backups, in-place restores and proven restores of Xen guests and Solaris zones through the
 * portal's API, over real SSH against the host emulators (tests/emulators: xl/LVM with a
 * volume's files as its "blocks", zfs send/receive, zlogin, consoles that act on the guest's
 * files). Real Xen and Solaris cannot run here: this checks that the planned commands reach the
 * host, that the copy streams back to the backup store with the host's checksum, and that what
 * an owner would check holds: a file deleted in the guest is back after the restore with the
 * same name, addresses and MACs; a backup boots as a throwaway guest that shows its marker and
 * is removed again; a backup whose file changed is damaged and never restored.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import * as restoreRoute from "@/app/api/v1/environments/[id]/restore/route";
import * as verifyRoute from "@/app/api/v1/environments/[id]/backups/[bid]/verify/route";
import { hosts } from "@/lib/db/schema";
import { BACKUP_MARKER_FILE } from "@/lib/drivers/types";
import { backupStoreDir } from "@/lib/env";
import { orderView } from "@/lib/orders/queries";
import { invoke } from "../helpers/http";
import { bootPortal, order, waitForAction, waitForOrder, type Actor } from "../helpers/portal";
import { mustRun, prepareXenHost, prepareZonesHost, runOn, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";
import { portalOnEmulatedHosts } from "../helpers/emulated-portal";

const { db } = await bootPortal();
let xenHost: EmulatedHost, solHost: EmulatedHost;
let portal: Awaited<ReturnType<typeof portalOnEmulatedHosts>> | undefined;
/** The Xen host's stage directory (its default is /var/tmp): one of this run's own. */
const xenStage = `/var/tmp/portal-xen-bk-${process.pid}`;
let owner: Actor;
let token: string;

beforeAll(async () => {
  [xenHost, solHost] = await Promise.all([
    startEmulatedHost({ name: "xen-bk", kind: "xen", port: 3520, config: { stageDir: xenStage } }),
    startEmulatedHost({ name: "sol-bk", kind: "zones", port: 3521 }),
  ]);
  // What an admin prepares: a Xen kernel and golden volume; the zones dataset and a golden zone.
  await prepareXenHost(xenHost, "golden-linux-test");
  await prepareZonesHost(solHost, { name: "golden-solaris10-whole-capped", wholeRoot: true });

  // Only the emulated hosts take orders in this file.
  portal = await portalOnEmulatedHosts(db, [xenHost, solHost]);
  ({ owner, token } = portal);
}, 60_000);

afterAll(async () => {
  await (portal ? portal.stop() : stopEmulatedHosts([xenHost, solHost]));
  rmSync(xenStage, { recursive: true, force: true });
});

type BackupItem = { id: string; status: string; sizeBytes: number | null; sha256: string | null; verified: boolean; note: string | null };

const api = {
  backup: (envId: string) => invoke(backupsRoute.POST, "POST", `/api/v1/environments/${envId}/backups`, { token, params: { id: envId } }),
  list: async (envId: string) => (await invoke(backupsRoute.GET, "GET", `/api/v1/environments/${envId}/backups`, { token, params: { id: envId } })).body.items as BackupItem[],
  restore: (envId: string, backup: string) => invoke(restoreRoute.POST, "POST", `/api/v1/environments/${envId}/restore`, { token, params: { id: envId }, body: { backup, mode: "in-place" } }),
  verify: (envId: string, bid: string) => invoke(verifyRoute.POST, "POST", `/api/v1/environments/${envId}/backups/${bid}/verify`, { token, params: { id: envId, bid } }),
};

function storeFileOf(envId: string, backupId: string): string {
  const dir = path.join(backupStoreDir, envId);
  const name = readdirSync(dir).find((f) => f.startsWith(backupId));
  if (!name) throw new Error(`no file of backup ${backupId} in ${dir}`);
  return path.join(dir, name);
}

type Case = {
  kind: string;
  host: () => EmulatedHost;
  order: { image: string; flavor: string; name: string };
  /** Where the guest's files are on the emulated host (its volume, its zone root). */
  guestRoot: (name: string) => string;
  /** The guest is up as the host says. */
  running: (name: string) => Promise<boolean>;
  /** What is left of throwaway verification guests on the host. */
  leftovers: () => Promise<string>;
  format: string;
  /** Makes the next verification fail on the host; answers how the failure reads. */
  breakVerify: (probe: string) => Promise<RegExp>;
  mendVerify: () => Promise<void>;
};

const cases: Case[] = [
  {
    kind: "Xen",
    host: () => xenHost,
    order: { image: "linux-test", flavor: "small", name: "bk-xen1" },
    guestRoot: (name) => `${xenHost.state}/lvm/data/vg0/${name}`,
    running: async (name) => (await runOn(xenHost, ["xl", "list", name])).code === 0,
    leftovers: async () => {
      const lvs = (await runOn(xenHost, ["lvs", "--noheadings", "-o", "lv_name", "vg0"])).stdout;
      const xl = (await runOn(xenHost, ["xl", "list"])).stdout;
      const staged = existsSync(xenStage) ? readdirSync(xenStage).join("\n") : "";
      return [lvs, xl, staged].join("\n").split("\n").filter((l) => /verify-|backup-|\.gz/.test(l)).join("\n");
    },
    format: "xen-lv",
    breakVerify: async () => {
      await mustRun(xenHost, ["mv", `${xenHost.state}/images/vmlinuz`, `${xenHost.state}/images/vmlinuz.off`]);
      return /the copy did not boot: .*xl create .*kernel .*No such file or directory/;
    },
    mendVerify: async () => {
      await mustRun(xenHost, ["mv", `${xenHost.state}/images/vmlinuz.off`, `${xenHost.state}/images/vmlinuz`]);
    },
  },
  {
    kind: "Solaris zones",
    host: () => solHost,
    order: { image: "solaris10-whole-capped", flavor: "capped-2cpu-4g", name: "bk-zone1" },
    guestRoot: (name) => `${solHost.state}/zones/${name}/root`,
    running: async (name) => /:running:/.test((await runOn(solHost, ["zoneadm", "-z", name, "list", "-p"])).stdout),
    leftovers: async () => {
      const zones = (await runOn(solHost, ["zoneadm", "list", "-cp"])).stdout;
      const datasets = (await runOn(solHost, ["zfs", "list", "-H", "-o", "name"])).stdout;
      const staged = readdirSync(`${solHost.state}/var/tmp/portal`).join("\n");
      const snapshots = Object.keys(JSON.parse(readFileSync(`${solHost.state}/zfs/state.json`, "utf8")).snapshots).join("\n");
      return [zones, datasets, staged, snapshots].join("\n").split("\n").filter((l) => /verify-|@backup-|\.gz/.test(l)).join("\n");
    },
    format: "zfs-stream",
    // A verification that stopped half-way left its dataset behind.
    breakVerify: async (probe) => {
      await mustRun(solHost, ["zfs", "create", `rpool/zones/verify-${probe}`]);
      return /the copy did not boot: .*zfs receive.* destination 'rpool\/zones\/verify-[0-9a-f]{8}' exists/;
    },
    mendVerify: async () => {},
  },
];

describe.each(cases)("backups of $kind guests over SSH (emulated host)", (c) => {
  let envId: string;
  let orderId: string;
  let first: BackupItem;

  it("a delivered guest is backed up live: the copy streams into the store with the host's checksum, and is proven by booting it", async () => {
    orderId = (await order(db, owner, c.order)).id;
    const view = await waitForOrder(db, orderId, undefined, 60_000);
    expect(view.status, view.reason ?? "").toBe("ready");
    envId = view.environment!.id;
    // The owner keeps a file in the guest.
    await mustRun(c.host(), ["sh", "-c", 'mkdir -p "$1/data" && echo "results of run 7" > "$1/data/keep.txt"', "sh", c.guestRoot(c.order.name)]);

    const res = await api.backup(envId);
    expect(res.status).toBe(202);
    const done = await waitForAction(db, res.body.actionId, 60_000);
    expect(done.status, done.error ?? "").toBe("succeeded");

    const items = await api.list(envId);
    expect(items).toHaveLength(1);
    first = items[0];
    expect(first).toMatchObject({ id: res.body.id, status: "succeeded", verified: true, note: null });
    const file = storeFileOf(envId, first.id);
    expect(path.basename(file)).toBe(`${first.id}.${c.format}.gz`);
    const bytes = readFileSync(file);
    expect(first.sizeBytes).toBe(bytes.length);
    expect(first.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    // The job wrote its marker into the running guest before the snapshot.
    expect(readFileSync(path.join(c.guestRoot(c.order.name), BACKUP_MARKER_FILE), "utf8")).toBe(`portal-backup ${first.id}\n`);
    const log = (await orderView(db, orderId)).environment!;
    expect(log.state).toBe("running");
    // The throwaway guest, its disk and every transfer copy are gone again.
    expect(await c.leftovers()).toBe("");
  });

  it("a file deleted in the guest is back after an in-place restore, with the same name, addresses and MACs", async () => {
    const before = (await orderView(db, orderId)).environment!;
    const keep = path.join(c.guestRoot(c.order.name), "data/keep.txt");
    await mustRun(c.host(), ["rm", keep]);
    expect(existsSync(keep)).toBe(false);

    const res = await api.restore(envId, first.id);
    expect(res.status).toBe(202);
    const done = await waitForAction(db, res.body.id, 60_000);
    expect(done.status, done.error ?? "").toBe("succeeded");

    expect(readFileSync(keep, "utf8")).toBe("results of run 7\n");
    expect(await c.running(c.order.name)).toBe(true);
    const after = (await orderView(db, orderId)).environment!;
    expect(after).toMatchObject({ hostname: before.hostname, host: before.host, state: "running" });
    expect(after.addresses).toEqual(before.addresses);
    if (c.kind === "Xen") {
      const cfg = readFileSync(`${xenHost.state}/etc/xen/${c.order.name}.cfg`, "utf8");
      for (const a of after.addresses) expect(cfg).toContain(`mac=${a.mac},`);
    }
    expect(await c.leftovers()).toBe("");
  });

  it("a verification that fails on the host says why and still removes the throwaway guest and its disk", async () => {
    const why = await c.breakVerify(first.id.replace(/-/g, "").slice(0, 8));
    try {
      const res = await api.verify(envId, first.id);
      expect(res.status).toBe(202);
      expect((await waitForAction(db, res.body.id, 60_000)).status).toBe("succeeded");
      const item = (await api.list(envId)).find((b) => b.id === first.id)!;
      expect(item.verified).toBe(false);
      expect(item.note).toMatch(why);
      expect(await c.leftovers()).toBe("");
    } finally {
      await c.mendVerify();
    }
  });

  it("verifying on demand boots the backup again and reads its marker back", async () => {
    const res = await api.verify(envId, first.id);
    expect(res.status).toBe(202);
    const done = await waitForAction(db, res.body.id, 60_000);
    expect(done.status, done.error ?? "").toBe("succeeded");
    const item = (await api.list(envId)).find((b) => b.id === first.id)!;
    expect(item).toMatchObject({ verified: true, note: null });
    expect(await c.leftovers()).toBe("");
  });

  it("a backup whose file changed in the store is shown damaged, and neither restored nor verified", async () => {
    appendFileSync(storeFileOf(envId, first.id), "x");
    const res = await api.restore(envId, first.id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/cannot be restored: damaged: its file no longer matches its checksum/);
    const item = (await api.list(envId)).find((b) => b.id === first.id)!;
    expect(item.status).toBe("damaged");
    expect((await api.verify(envId, first.id)).status).toBe(409);
    expect(readFileSync(path.join(c.guestRoot(c.order.name), "data/keep.txt"), "utf8")).toBe("results of run 7\n");
  });

  it("a backup that fails on the host is shown failed with the host's reason, and its snapshot is removed", async () => {
    const h = c.host();
    // A stage directory the host cannot create: the copy fails after the snapshot was taken.
    await db.update(hosts).set({ config: { ...h.host.config, stageDir: "/proc/portal-no-stage" } }).where(eq(hosts.id, h.host.id));
    try {
      const res = await api.backup(envId);
      expect(res.status).toBe(202);
      expect((await waitForAction(db, res.body.actionId, 60_000)).status).toBe("failed");
      const item = (await api.list(envId)).find((b) => b.id === res.body.id)!;
      expect(item.status).toBe("failed");
      expect(item.note).toMatch(/mkdir -p \/proc\/portal-no-stage.* failed on ssh .* with exit code 1/);
      expect(await c.leftovers()).toBe("");
      expect(await c.running(c.order.name)).toBe(true);
    } finally {
      await db.update(hosts).set({ config: h.host.config }).where(eq(hosts.id, h.host.id));
    }
  });
});
