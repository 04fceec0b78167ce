/**
 * A backup of a real QEMU guest and an in-place restore (test: "Backup -> delete the file ->
 * in-place restore -> the file is back, same IP and MAC"). The owner writes a file to /data
 * over SSH, backs the running guest up (a live QMP block job), deletes the file, restores the
 * backup in place, and finds the file again on a guest with the same address and MAC and the
 * same SSH host key. The backup is proven on the way: booted as a throwaway guest in a network
 * namespace of its own, which must show the marker the backup wrote, and removed again.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as backupsRoute from "@/app/api/v1/environments/[id]/backups/route";
import * as restoreRoute from "@/app/api/v1/environments/[id]/restore/route";
import { invoke } from "../helpers/http";
import { bootPortal, unique, waitForAction } from "../helpers/portal";
import { netnsName, qemuProcessesFor, type QemuHosts } from "../helpers/qemu-hosts";
import { placeOrder, pinServiceHostKey, readyView, startQemuCustomer, type QemuCustomer } from "../helpers/qemu-orders";
import { guestSsh } from "../helpers/guest-ssh";

const run = promisify(execFile);
const { db } = await bootPortal();
const BOOT_MS = 240_000;
const keyDir = mkdtempSync("/tmp/pq-backup-");
const ownerKey = path.join(keyDir, "owner");
const knownHosts = path.join(keyDir, "known_hosts");
let customer: QemuCustomer | undefined;
let qemu: QemuHosts;
let token: string;
let orderId: string;
let environmentId: string;
let hostname: string;
const note = `kept by the backup ${unique("note")}\n`;

type OrderView = {
  status: string;
  environment: { id: string; host: string; hostname: string; state: string; addresses: { purpose: string; ip: string; mac: string }[] };
};

async function getOrder(): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token, params: { id: orderId } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

/** `ssh root@<service address> <command>` in the host's namespace with the owner's key and the pinned host key. */
async function ssh(command: string) {
  const view = await getOrder();
  const address = view.environment.addresses.find((a) => a.purpose === "service")!.ip;
  const host = qemu.hosts.find((h) => h.name === view.environment.host)!;
  return guestSsh({ netns: netnsName(host), address, key: ownerKey, knownHosts }, command);
}

const waitAction = (id: string) => waitForAction(db, id, BOOT_MS);

beforeAll(async () => {
  customer = await startQemuCustomer(db, { ownerKey });
  ({ qemu, token } = customer);
  hostname = unique("backup");
  orderId = await placeOrder(token, { image: "linux-qemu", flavor: "small", name: hostname });
  const view = await readyView<OrderView>(db, token, orderId, BOOT_MS);
  environmentId = view.environment.id;
  pinServiceHostKey(qemu, view, knownHosts);
}, BOOT_MS + 60_000);

afterAll(async () => {
  await customer?.stop();
  rmSync(keyDir, { recursive: true, force: true });
}, 60_000);

describe("backup and in-place restore of a QEMU guest", () => {
  it("a file deleted after the backup is back after the restore, on the same address and MAC", async () => {
    const written = await ssh("cat > /data/note.txt <<'EOF'\n" + note + "EOF\nsync");
    expect(written, written.stderr).toMatchObject({ code: 0 });

    const view0 = await getOrder();
    const backup = await invoke(backupsRoute.POST, "POST", `/api/v1/environments/${environmentId}/backups`, { token, params: { id: environmentId } });
    expect(backup.status, JSON.stringify(backup.body)).toBe(202);
    const backedUp = await waitAction(backup.body.actionId);
    expect(backedUp.status, backedUp.error ?? "").toBe("succeeded");
    // The guest ran through the backup: the copy came from QEMU's block job, not a stopped disk.
    expect((await getOrder()).environment.state).toBe("running");
    const listed = await invoke(backupsRoute.GET, "GET", `/api/v1/environments/${environmentId}/backups`, { token, params: { id: environmentId } });
    expect(listed.body.items[0]).toMatchObject({ id: backup.body.id, status: "succeeded", verified: true, note: null });
    // The throwaway guest and its namespace are gone again.
    const { stdout: namespaces } = await run("ip", ["netns", "list"]);
    expect(namespaces).not.toContain(`portal-verify-${backup.body.id.replace(/-/g, "").slice(0, 8)}`);
    expect(await qemuProcessesFor(qemu.guestDir(view0.environment.host, `verify-${backup.body.id.replace(/-/g, "").slice(0, 8)}`))).toEqual([]);

    const before = (await getOrder()).environment.addresses.map((a) => `${a.ip} ${a.mac}`);
    const deleted = await ssh("rm /data/note.txt && sync && ls /data");
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).not.toContain("note.txt");

    const restore = await invoke(restoreRoute.POST, "POST", `/api/v1/environments/${environmentId}/restore`, {
      token, params: { id: environmentId }, body: { backup: backup.body.id, mode: "in-place" },
    });
    expect(restore.status, JSON.stringify(restore.body)).toBe(202);
    const restored = await waitAction(restore.body.id);
    expect(restored.status, restored.error ?? "").toBe("succeeded");

    const view = await getOrder();
    expect(view.environment.state).toBe("running");
    expect(view.environment.addresses.map((a) => `${a.ip} ${a.mac}`)).toEqual(before);
    // Same host key (checked strictly), the file back, and the NIC with the order's MAC.
    const back = await ssh("cat /data/note.txt; cat /sys/class/net/eth0/address");
    expect(back, back.stderr).toMatchObject({ code: 0 });
    expect(back.stdout).toBe(`${note}${view.environment.addresses[0].mac}\n`);
  }, 3 * BOOT_MS);
});
