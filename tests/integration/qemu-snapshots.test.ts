/**
 * Snapshots and resize of a real QEMU guest, through the API: the owner writes a file to
 * /data over SSH, takes a snapshot (with the running guest's memory), changes the file,
 * reverts, and finds the file as it was, on the same address and MAC; then a resize to a
 * bigger size restarts QEMU with the new -smp/-m and the guest itself reports the new CPU
 * count and memory, and /data grown to the bigger disk with the file written before still there; a reinstall builds the guest again from the image, on the same address
 * and MAC, first keeping its disk (keepData: the file on /data stays), then with a new disk.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as snapshotsRoute from "@/app/api/v1/environments/[id]/snapshots/route";
import * as snapshotRoute from "@/app/api/v1/environments/[id]/snapshots/[sid]/route";
import * as revertRoute from "@/app/api/v1/environments/[id]/snapshots/[sid]/revert/route";
import * as resizeRoute from "@/app/api/v1/environments/[id]/resize/route";
import * as reinstallRoute from "@/app/api/v1/environments/[id]/reinstall/route";
import { parseReadyLine, type ReadyReport } from "@/lib/drivers/qemu/glue";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { guestSsh, pinHostKeyFromConsole, putOwnerKey, type GuestSsh } from "../helpers/guest-ssh";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder, waitForAction } from "../helpers/portal";
import { argvOf, guestFiles, netnsName, qemuProcessesFor, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";

const run = promisify(execFile);
const { db } = await bootPortal();
const BOOT_MS = 240_000;
const keyDir = mkdtempSync("/tmp/pq-snap-");
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: string;
let orderId: string;
let environmentId: string;
let hostname: string;
let guest: GuestSsh;
let service: { ip: string; mac: string };

type OrderView = {
  status: string;
  flavor: { slug: string };
  steps: { name: string; status: string }[];
  environment: { id: string; host: string; state: string; addresses: { purpose: string; ip: string; mac: string }[] };
};

async function getOrder(): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token, params: { id: orderId } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

const waitAction = (id: string) => waitForAction(db, id, BOOT_MS);

/** Trusts the host key the guest printed last on its console (the order page names its fingerprint). */
function trustHostKey() {
  pinHostKeyFromConsole(guestFiles(qemu.guestDir(qemu.hosts[0].name, hostname)).serialLog, service.ip, guest.knownHosts);
}

const serialLog = () => readFileSync(guestFiles(qemu.guestDir(qemu.hosts[0].name, hostname)).serialLog, "utf8");
/** The guest's last PORTAL-READY line on its console (since QEMU last started). */
function lastReady(): ReadyReport {
  const reports = serialLog().split("\n").map(parseReadyLine).filter((r): r is ReadyReport => r !== null);
  expect(reports.length, "a PORTAL-READY line on the console").toBeGreaterThan(0);
  return reports.at(-1)!;
}

const envPath = (suffix = "") => `/api/v1/environments/${environmentId}${suffix}`;
const ssh = (command: string, input?: string) => guestSsh(guest, command, input);

/** The guest's MAC on its service NIC, as the guest sees it. */
async function guestMac(): Promise<string> {
  const r = await ssh(`for n in /sys/class/net/*; do [ "$(cat $n/address)" = "${service.mac}" ] && cat $n/address; done; true`);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  qemu = await setupQemuHosts(db, 1);
  const group = await makeGroup(db, { autoApprove: true });
  token = await tokenFor(db, await makeUser(db, "customer", group.slug));
  const key = path.join(keyDir, "owner");
  await putOwnerKey(token, key);
  worker = await startWorkers();

  hostname = unique("snap");
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-qemu", flavor: "small", name: hostname } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  orderId = res.body.id;
  await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
  const view = await getOrder();
  expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
  environmentId = view.environment.id;
  service = view.environment.addresses.find((a) => a.purpose === "service")!;
  guest = { netns: netnsName(qemu.hosts[0]), address: service.ip, key, knownHosts: path.join(keyDir, "known_hosts") };
  trustHostKey();
}, BOOT_MS + 60_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
}, 60_000);

describe("snapshots of a QEMU guest", () => {
  it("a file written before the snapshot and changed after is back after a revert, on the same address and MAC", async () => {
    const before = `before the snapshot ${unique("n")}\n`;
    expect(await ssh("cat > /data/note.txt && sync", before)).toMatchObject({ code: 0 });
    expect(await guestMac()).toBe(service.mac);

    const taken = await invoke(snapshotsRoute.POST, "POST", envPath("/snapshots"), { token, params: { id: environmentId }, body: { name: "before change" } });
    expect(taken.status, JSON.stringify(taken.body)).toBe(202);
    const snapAction = await waitAction(taken.body.id);
    expect(snapAction.status, snapAction.error ?? "").toBe("succeeded");
    const listed = await invoke(snapshotsRoute.GET, "GET", envPath("/snapshots"), { token, params: { id: environmentId } });
    expect(listed.body.snapshots).toEqual([expect.objectContaining({ name: "before change", status: "ready", withMemory: true })]);
    // It is an internal snapshot of the guest's qcow2 overlay, with the guest's memory state.
    const disk = guestFiles(qemu.guestDir(qemu.hosts[0].name, hostname)).disk;
    const info = JSON.parse((await run("qemu-img", ["info", "-U", "--output=json", disk])).stdout) as { snapshots?: { name: string; "vm-state-size": number }[] };
    expect(info.snapshots?.length).toBe(1);
    expect(info.snapshots![0]["vm-state-size"]).toBeGreaterThan(0);

    expect(await ssh("echo changed after the snapshot > /data/note.txt && sync && cat /data/note.txt")).toMatchObject({ code: 0, stdout: "changed after the snapshot\n" });

    const back = await invoke(revertRoute.POST, "POST", envPath(`/snapshots/${taken.body.snapshotId}/revert`), { token, params: { id: environmentId, sid: taken.body.snapshotId } });
    expect(back.status, JSON.stringify(back.body)).toBe(202);
    const reverted = await waitAction(back.body.id);
    expect(reverted.status, reverted.error ?? "").toBe("succeeded");

    // Same address (ssh reaches it there, host key checked), same MAC, the file as it was.
    expect(await ssh("cat /data/note.txt")).toMatchObject({ code: 0, stdout: before });
    expect(await guestMac()).toBe(service.mac);
    const view = await getOrder();
    expect(view.environment.state).toBe("running");
    expect(view.environment.addresses.find((a) => a.purpose === "service")).toMatchObject(service);

    const gone = await invoke(snapshotRoute.DELETE, "DELETE", envPath(`/snapshots/${taken.body.snapshotId}`), { token, params: { id: environmentId, sid: taken.body.snapshotId } });
    expect(gone.status).toBe(202);
    expect((await waitAction(gone.body.id)).status).toBe("succeeded");
    const after = JSON.parse((await run("qemu-img", ["info", "-U", "--output=json", disk])).stdout) as { snapshots?: unknown[] };
    expect(after.snapshots ?? []).toEqual([]);
  }, 3 * BOOT_MS);

  it("a resize restarts QEMU with the new -smp and -m; the guest reports the new CPU count and memory, and /data grown to the bigger disk with its files", async () => {
    const before = await ssh("grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo");
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout.split("\n")[0]).toBe("1");

    // A snapshot with the memory of the small guest, to revert to once it is bigger.
    const small = await invoke(snapshotsRoute.POST, "POST", envPath("/snapshots"), { token, params: { id: environmentId }, body: { name: "small" } });
    expect((await waitAction(small.body.id)).status).toBe("succeeded");

    const dataBefore = lastReady().dataBytes!;
    expect(dataBefore).toBeGreaterThan(8 * 1024 ** 3);
    const written = `written before the resize ${unique("r")}\n`;
    expect(await ssh("cat > /data/before-resize.txt && sync", written)).toMatchObject({ code: 0 });

    const res = await invoke(resizeRoute.POST, "POST", envPath("/resize"), { token, params: { id: environmentId }, body: { flavor: "medium" } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await waitAction(res.body.id);
    expect(done.status, done.error ?? "").toBe("succeeded");

    const [pid] = await qemuProcessesFor(qemu.guestDir(qemu.hosts[0].name, hostname));
    const argv = argvOf(pid);
    expect(argv[argv.indexOf("-smp") + 1]).toBe("2");
    expect(argv[argv.indexOf("-m") + 1]).toBe("4096");
    const after = await ssh("grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo; cat /data/note.txt >/dev/null && echo data-kept");
    expect(after.code, after.stderr).toBe(0);
    const [cpus, mem, kept] = after.stdout.trim().split("\n");
    expect(cpus).toBe("2");
    const memKb = Number(/MemTotal:\s+(\d+) kB/.exec(mem)![1]);
    // The kernel keeps some of it for itself: more than 3.5 GiB of the 4 GiB is reported.
    expect(memKb).toBeGreaterThan(3.5 * 1024 * 1024);
    expect(kept).toBe("data-kept");
    // The disk grew to the new size's 20 GB.
    const disk = guestFiles(qemu.guestDir(qemu.hosts[0].name, hostname)).disk;
    const info = JSON.parse((await run("qemu-img", ["info", "-U", "--output=json", disk])).stdout) as { "virtual-size": number };
    expect(info["virtual-size"]).toBe(20 * 1024 ** 3);
    expect((await getOrder()).flavor.slug).toBe("medium");
    // /data grew with the disk at boot (online resize2fs), and says so; what was there stays.
    expect(serialLog()).toMatch(/portal-init: \/data grown from \d+ to \d+ bytes, the disk's size/);
    const dataAfter = lastReady().dataBytes!;
    expect(dataAfter - dataBefore).toBeGreaterThan(9 * 1024 ** 3);
    const df = await ssh("stat -f -c '%b %S' /data; cat /data/before-resize.txt");
    expect(df.code, df.stderr).toBe(0);
    const [blocks, blockSize] = df.stdout.split("\n")[0].split(" ").map(Number);
    expect(blocks * blockSize).toBe(dataAfter);
    expect(df.stdout.split("\n").slice(1).join("\n")).toBe(written);

    // Its saved memory is of a 1-CPU, 1 GiB machine: the revert falls back to the disk and boots the new size.
    const back = await invoke(revertRoute.POST, "POST", envPath(`/snapshots/${small.body.snapshotId}/revert`), { token, params: { id: environmentId, sid: small.body.snapshotId } });
    const reverted = await waitAction(back.body.id);
    expect(reverted.status, reverted.error ?? "").toBe("succeeded");
    const again = await ssh("grep -c ^processor /proc/cpuinfo; cat /data/note.txt");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split("\n")[0]).toBe("2");
    expect(await guestMac()).toBe(service.mac);
  }, 3 * BOOT_MS);

  it("a reinstall with keepData boots the image again on the same disk: the owner's file on /data and the SSH host key stay", async () => {
    const wrote = await ssh("cat > /data/kept.txt && sync", "kept across the reinstall\n");
    expect(wrote.code, wrote.stderr).toBe(0);
    const hostKeyBefore = readFileSync(guest.knownHosts, "utf8");
    const res = await invoke(reinstallRoute.POST, "POST", envPath("/reinstall"), { token, params: { id: environmentId }, body: { keepData: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
    const view = await getOrder();
    expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
    expect(view.environment.addresses.find((a) => a.purpose === "service")).toMatchObject(service);
    trustHostKey();
    expect(readFileSync(guest.knownHosts, "utf8")).toBe(hostKeyBefore);
    const kept = await ssh("cat /data/kept.txt");
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toBe("kept across the reinstall\n");
  }, 2 * BOOT_MS);

  it("a reinstall builds the guest again from the image: same address and MAC, a new disk without the owner's file", async () => {
    const res = await invoke(reinstallRoute.POST, "POST", envPath("/reinstall"), { token, params: { id: environmentId } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
    const view = await getOrder();
    expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
    expect(view.environment.addresses.find((a) => a.purpose === "service")).toMatchObject(service);
    trustHostKey();
    expect(await guestMac()).toBe(service.mac);
    const data = await ssh("ls /data; hostname");
    expect(data.code, data.stderr).toBe(0);
    expect(data.stdout).not.toContain("note.txt");
    expect(data.stdout).not.toContain("kept.txt");
    expect(data.stdout.trim().split("\n").at(-1)).toBe(hostname);
  }, 2 * BOOT_MS);
});
