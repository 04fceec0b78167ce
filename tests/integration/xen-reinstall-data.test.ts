/**
 * Reinstall of a Xen guest through the portal's API, over real SSH against the host emulators
 * (tests/emulators: xl, LVM with a volume's files as its "blocks", mount as a symlink, cp that a
 * test can make fail). Real Xen cannot run here: this checks what an owner would check. With
 * keepData the file under /data is there after the rebuild and the rest of the root is the
 * current golden image's (a file written elsewhere is gone), with the same name, addresses and
 * MACs; without keepData /data is gone too; a copy that fails leaves the old disk under its own
 * name, as it was, says so on the order, and a retry after the fault is gone keeps /data.
 * Emulated host on port 3600 (3600-3609 belong to this file).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as reinstallRoute from "@/app/api/v1/environments/[id]/reinstall/route";
import * as retryRoute from "@/app/api/v1/orders/[id]/retry/route";
import { orderView } from "@/lib/orders/queries";
import { invoke } from "../helpers/http";
import { bootPortal, order, waitForOrder, type Actor } from "../helpers/portal";
import { startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";
import { portalOnEmulatedHosts } from "../helpers/emulated-portal";

const { db } = await bootPortal();
let xen: EmulatedHost;
let portal: Awaited<ReturnType<typeof portalOnEmulatedHosts>> | undefined;
let owner: Actor;
let token: string;
const name = "xrd-data1";
const golden = "golden-linux-test";

async function on(argv: string[]) {
  const t = xen.transport();
  try {
    return await t.run(argv);
  } finally {
    await t.close();
  }
}

async function must(argv: string[]) {
  const r = await on(argv);
  expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

/** A file on an emulated volume (its files are the volume's "blocks"). */
const onVolume = (lv: string, file: string) => path.join(xen.state, "lvm/data/vg0", lv, file);
const guestFile = (file: string) => onVolume(name, file);
const sh = (script: string, ...args: string[]) => must(["sh", "-c", script, "sh", ...args]);
const lvNames = async () => (await must(["lvs", "--noheadings", "-o", "lv_name", "vg0"])).stdout.split("\n").map((l) => l.trim()).filter(Boolean);
const mounts = () => (existsSync(path.join(xen.state, "mounts.json")) ? Object.keys(JSON.parse(readFileSync(path.join(xen.state, "mounts.json"), "utf8"))) : []);
const domainConfig = () => readFileSync(path.join(xen.state, "etc/xen", `${name}.cfg`), "utf8");

beforeAll(async () => {
  xen = await startEmulatedHost({ name: "xen-rd", kind: "xen", port: 3600 });
  for (const f of ["vmlinuz", "initrd.img"]) await xen.transport().writeFile(`${xen.state}/images/${f}`, "kernel\n");
  await must(["lvcreate", "-L", "2G", "-n", golden, "vg0"]);
  await must(["mkfs.ext4", "-q", "-F", `/dev/vg0/${golden}`]);
  await sh('mkdir -p "$1/etc" && echo "golden build 1" > "$1/etc/image-build"', onVolume(golden, ""));
  // Only the emulated host takes orders in this file.
  portal = await portalOnEmulatedHosts(db, [xen]);
  ({ owner, token } = portal);
}, 60_000);

afterAll(async () => {
  await (portal ? portal.stop() : stopEmulatedHosts([xen]));
});

describe("reinstall of a Xen guest keeping /data (emulated host over SSH)", () => {
  let orderId: string;
  let envId: string;
  let addresses: { ip: string; mac: string }[];

  const reinstall = (body: unknown) => invoke(reinstallRoute.POST, "POST", `/api/v1/environments/${envId}/reinstall`, { token, params: { id: envId }, body });
  const settle = async () => waitForOrder(db, orderId, ["ready", "failed"], 60_000);
  /** The owner's files: one under /data (with its mode and time), one elsewhere on the root. */
  const writeOwnersFiles = () =>
    sh(
      'mkdir -p "$1/data/results" "$1/root" && echo "run 7: 42" > "$1/data/results/run7.txt" && chmod 640 "$1/data/results/run7.txt" && touch -d "2026-01-02 03:04:05" "$1/data/results/run7.txt" && echo scratch > "$1/root/scratch.txt"',
      guestFile(""),
    );

  it("a delivered guest on the emulated Xen host", async () => {
    orderId = (await order(db, owner, { image: "linux-test", flavor: "small", name })).id;
    const view = await waitForOrder(db, orderId, undefined, 60_000);
    expect(view.status, view.reason ?? "").toBe("ready");
    envId = view.environment!.id;
    addresses = view.environment!.addresses.map((a) => ({ ip: a.ip, mac: a.mac }));
    expect(addresses.length).toBeGreaterThan(0);
    expect(readFileSync(guestFile("etc/image-build"), "utf8")).toBe("golden build 1\n");
  }, 90_000);

  it("with keepData the file under /data stays (content, mode, time) and the rest of the root is the current golden image's", async () => {
    await writeOwnersFiles();
    const before = statSync(guestFile("data/results/run7.txt"));
    await sh('echo "golden build 2" > "$1/etc/image-build"', onVolume(golden, ""));

    const res = await reinstall({ keepData: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const view = await settle();
    expect(view.status, view.reason ?? "").toBe("ready");

    expect(readFileSync(guestFile("data/results/run7.txt"), "utf8")).toBe("run 7: 42\n");
    const after = statSync(guestFile("data/results/run7.txt"));
    expect(after.mode & 0o777).toBe(0o640);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(guestFile("root/scratch.txt"))).toBe(false);
    expect(readFileSync(guestFile("etc/image-build"), "utf8")).toBe("golden build 2\n");
    expect(readFileSync(guestFile("etc/hostname"), "utf8")).toBe(`${name}\n`);
    // Same name, addresses and MACs; the old disk is gone and nothing stays mounted.
    expect(view.environment!.addresses.map((a) => ({ ip: a.ip, mac: a.mac }))).toEqual(addresses);
    for (const a of addresses) expect(domainConfig()).toContain(`mac=${a.mac}`);
    expect((await on(["xl", "list", name])).code).toBe(0);
    expect(await lvNames()).toEqual(expect.arrayContaining([name]));
    expect(await lvNames()).not.toContain(`${name}.keep`);
    expect(mounts()).toEqual([]);
  }, 90_000);

  it("without keepData /data goes with the rest of the disk", async () => {
    const res = await reinstall({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const view = await settle();
    expect(view.status, view.reason ?? "").toBe("ready");
    expect(existsSync(guestFile("data/results/run7.txt"))).toBe(false);
    expect(readFileSync(guestFile("etc/image-build"), "utf8")).toBe("golden build 2\n");
    expect(view.environment!.addresses.map((a) => ({ ip: a.ip, mac: a.mac }))).toEqual(addresses);
  }, 90_000);

  it("a copy that fails puts the old disk back under its name, as it was, and says so; a retry keeps /data", async () => {
    await writeOwnersFiles();
    await sh('mkdir -p "$1/faults" && echo "cp: error writing \'/mnt/x/data/results/run7.txt\': No space left on device" > "$1/faults/cp"', xen.state);

    const res = await reinstall({ keepData: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await settle();
    expect(failed.status).toBe("failed");
    expect(failed.reason).toMatch(/copying \/data to the new disk failed \(.*No space left on device.*\)\. Nothing is lost: the new disk was removed and the old one is back as vg0\/xrd-data1, as it was before the reinstall/);
    // The old disk, under its own name, with everything on it; nothing set aside or mounted.
    expect(await lvNames()).toContain(name);
    expect(await lvNames()).not.toContain(`${name}.keep`);
    expect(readFileSync(guestFile("data/results/run7.txt"), "utf8")).toBe("run 7: 42\n");
    expect(readFileSync(guestFile("root/scratch.txt"), "utf8")).toBe("scratch\n");
    expect(mounts()).toEqual([]);

    await must(["rm", `${xen.state}/faults/cp`]);
    const retry = await invoke(retryRoute.POST, "POST", `/api/v1/orders/${orderId}/retry`, { token, params: { id: orderId } });
    expect(retry.status, JSON.stringify(retry.body)).toBeLessThan(300);
    const view = await settle();
    expect(view.status, view.reason ?? "").toBe("ready");
    expect(readFileSync(guestFile("data/results/run7.txt"), "utf8")).toBe("run 7: 42\n");
    expect(existsSync(guestFile("root/scratch.txt"))).toBe(false);
    expect(await lvNames()).not.toContain(`${name}.keep`);
    expect((await orderView(db, orderId)).environment!.addresses.map((a) => ({ ip: a.ip, mac: a.mac }))).toEqual(addresses);
  }, 120_000);
});
