/**
 * A QEMU guest its owner can log in to, for real: a customer with an SSH key on Account orders
 * "Linux (QEMU)"; from the host's side of the guest network (`ip netns exec <host's namespace>
 * ssh root@<address>`) the owner logs in with that key and no other, checking the host key the
 * order page names; a file written to /data is still there after stop and start, and after a
 * live migration to the other host, where the guest answers with the same host key.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as startRoute from "@/app/api/v1/environments/[id]/start/route";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import * as migrateRoute from "@/app/api/v1/environments/[id]/migrate/route";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder, waitForAction } from "../helpers/portal";
import { guestFiles, netnsName, qemuProcessesFor, setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";
import { guestSsh, newOwnerKey, putOwnerKey } from "../helpers/guest-ssh";

const run = promisify(execFile);
const { db, admin } = await bootPortal();
const BOOT_MS = 240_000;
const keyDir = mkdtempSync("/tmp/pq-login-");
const ownerKey = path.join(keyDir, "owner");
const otherKey = path.join(keyDir, "other");
const knownHosts = path.join(keyDir, "known_hosts");
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: string;
let orderId: string;
let environmentId: string;
let hostname: string;
let address: string;
const note = `written by the owner ${unique("note")}\n`;

type OrderView = {
  status: string;
  steps: { name: string; status: string; log: { line: string }[] }[];
  environment: { id: string; hostname: string; host: string; state: string; addresses: { purpose: string; ip: string }[] };
};

async function getOrder(): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token, params: { id: orderId } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

/** The network namespace of the host the environment runs on now. */
async function namespaceOfGuest(): Promise<string> {
  const name = (await getOrder()).environment.host;
  const host = qemu.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`the environment runs on ${name}, not on a host of this test`);
  return netnsName(host);
}

/** `ssh root@<address> <command>` with one key, inside the namespace of the host the guest runs on now. */
async function ssh(key: string, command: string, input?: string) {
  return guestSsh({ netns: await namespaceOfGuest(), address, key, knownHosts }, command, input);
}

const waitAction = (id: string) => waitForAction(db, id, BOOT_MS);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  qemu = await setupQemuHosts(db, 2, { migrationPorts: [45100, 45199] });
  const group = await makeGroup(db, { autoApprove: true });
  token = await tokenFor(db, await makeUser(db, "customer", group.slug));
  await putOwnerKey(token, ownerKey);
  await newOwnerKey(otherKey);
  worker = await startWorkers();

  hostname = unique("login");
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-qemu", flavor: "small", name: hostname } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  orderId = res.body.id;
  await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
  const view = await getOrder();
  expect(view.status, JSON.stringify(view.steps.find((s) => s.status === "failed"))).toBe("ready");
  environmentId = view.environment.id;
  address = view.environment.addresses.find((a) => a.purpose === "service")!.ip;
}, BOOT_MS + 60_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
}, 60_000);

describe("logging in to a QEMU guest", () => {
  it("the owner logs in as root with the key from Account; the host key is the one the order page names", async () => {
    const view = await getOrder();
    // The guest printed its host key on its console; the order page shows its fingerprint.
    const console_ = readFileSync(guestFiles(qemu.guestDir(view.environment.host, hostname)).serialLog, "utf8");
    const hostKey = console_.match(/portal-init: SSH host key (ssh-ed25519 [A-Za-z0-9+/=]+) (SHA256:\S+)/);
    expect(hostKey, "the SSH host key line on the console").not.toBeNull();
    writeFileSync(knownHosts, `${address} ${hostKey![1]}\n`);
    const ready = view.steps.find((s) => s.name === "wait_ready")!.log.map((l) => l.line).find((l) => l.startsWith("guest reports ready"));
    expect(ready).toMatch(/, \/data \d+ bytes, SSH on port 22 \(host key SHA256:\S+\)$/);
    expect(ready).toContain(`(host key ${hostKey![2]})`);
    const { stdout: listed } = await run("ssh-keygen", ["-l", "-f", knownHosts]);
    expect(listed).toContain(hostKey![2]);

    const who = await ssh(ownerKey, "hostname; id -u; cat /etc/motd");
    expect(who.stderr).toBe("");
    expect(who.code).toBe(0);
    const [name, uid, ...motd] = who.stdout.split("\n");
    expect([name, uid]).toEqual([hostname, "0"]);
    expect(motd.join("\n")).toContain(`Order ${hostname} (${orderId})`);
  }, 90_000);

  it("refuses a key that is not the owner's", async () => {
    const other = await ssh(otherKey, "true");
    expect(other.code).toBe(255);
    expect(other.stderr).toMatch(/Permission denied \(publickey\)/);
  }, 90_000);

  it("what the owner writes to /data is on the guest's disk and survives stop and start", async () => {
    const written = await ssh(ownerKey, "cat > /data/note.txt && grep -c ' /data ext4 ' /proc/mounts", note);
    expect(written).toMatchObject({ code: 0, stdout: "1\n" });

    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${environmentId}/stop`, { token, params: { id: environmentId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    expect((await waitAction(stop.body.id)).status).toBe("succeeded");
    expect((await getOrder()).environment.state).toBe("stopped");
    expect(await qemuProcessesFor(qemu.guestDir((await getOrder()).environment.host, hostname))).toEqual([]);
    const start = await invoke(startRoute.POST, "POST", `/api/v1/environments/${environmentId}/start`, { token, params: { id: environmentId } });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const started = await waitAction(start.body.id);
    expect(started.status, started.error ?? "").toBe("succeeded");

    // A new boot from the disk, the same host key (known_hosts is checked strictly), the owner's file.
    const back = await ssh(ownerKey, "cat /data/note.txt");
    expect(back).toMatchObject({ code: 0, stdout: note });
  }, 2 * BOOT_MS);

  it("the file and the host key move with the guest in a live migration to the other host", async () => {
    const from = (await getOrder()).environment.host;
    const to = qemu.hosts.find((h) => h.name !== from)!;
    const res = await invoke(migrateRoute.POST, "POST", `/api/v1/environments/${environmentId}/migrate`, {
      token: await tokenFor(db, admin), params: { id: environmentId }, body: { host: to.name },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const moved = await waitAction(res.body.id);
    expect(moved.status, moved.error ?? "").toBe("succeeded");
    expect((await getOrder()).environment.host).toBe(to.name);

    // Reached now through the other host's namespace.
    const after = await ssh(ownerKey, "cat /data/note.txt");
    expect(after).toMatchObject({ code: 0, stdout: note });
  }, BOOT_MS);
});
