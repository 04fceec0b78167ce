/**
 * Hosts through the API, against a real OpenSSH server on loopback: an admin registers a
 * host with its SSH key, "Test connection" pins the host key and reports what the host has,
 * a changed host key is refused, injection attempts in any field get 422 and change nothing,
 * and a host with live environments cannot be removed. The key never comes back out.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { count, eq } from "drizzle-orm";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as hostRoute from "@/app/api/v1/hosts/[id]/route";
import * as testRoute from "@/app/api/v1/hosts/[id]/test/route";
import { auditEvents, environments, hosts } from "@/lib/db/schema";
import { decryptHostSecret } from "@/lib/drivers/transport/secrets";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, type Actor } from "../helpers/portal";
import { generateKey, startSshd, type RunningSshd } from "../helpers/sshd";
import { startEmulatedHost, type EmulatedHost } from "../helpers/emulated-hosts";

const { db, admin } = await bootPortal();
let sshd: RunningSshd;
let customer: Actor;
const token = { admin: "", customer: "" };
const keyDir = mkdtempSync(path.join(os.tmpdir(), "portal-hosts-api-"));

beforeAll(async () => {
  sshd = await startSshd({ port: 2223 });
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, customer);
});

afterAll(async () => {
  await closeSshConnections();
  await sshd?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

const register = (body: unknown, tok = token.admin) => invoke(hostsRoute.POST, "POST", "/api/v1/hosts", { token: tok, body });
const testHost = (id: string, tok = token.admin) => invoke(testRoute.POST, "POST", `/api/v1/hosts/${id}/test`, { token: tok, params: { id } });
const patchHost = (id: string, body: unknown, tok = token.admin) => invoke(hostRoute.PATCH, "PATCH", `/api/v1/hosts/${id}`, { token: tok, params: { id }, body });
const removeHost = (id: string, tok = token.admin) => invoke(hostRoute.DELETE, "DELETE", `/api/v1/hosts/${id}`, { token: tok, params: { id } });
const listHosts = () => invoke(hostsRoute.GET, "GET", "/api/v1/hosts", { token: token.admin });

function validHost(overrides: Record<string, unknown> = {}) {
  return { name: unique("kvm"), kind: "qemu", address: sshd.host, port: sshd.port, sshUser: sshd.user, privateKey: sshd.privateKey, ...overrides };
}

/** The key's base64 body, to look for it anywhere it must not be. */
const keyBody = () => sshd.privateKey.split("\n").filter((l) => l && !l.startsWith("-----")).join("");

function expectNoSecret(value: unknown) {
  const text = JSON.stringify(value);
  expect(text).not.toContain("PRIVATE KEY");
  expect(text).not.toContain(keyBody().slice(0, 40));
  expect(text).not.toContain(keyBody().slice(-40));
}

async function rowCounts() {
  const [h] = await db.select({ n: count() }).from(hosts);
  const [a] = await db.select({ n: count() }).from(auditEvents);
  return { hosts: h.n, audits: a.n };
}

/** What this machine reports, as the host (it is the same machine) must report it. */
function localFacts() {
  const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))![1]);
  return { vcpus: Number(execFileSync("nproc", { encoding: "utf8" }).trim()), memoryMb: Math.floor(memTotalKb / 1024) };
}

describe("registering and testing a host over SSH", () => {
  let hostId: string;

  it("registers a host: offline, no capacity yet, the key stored encrypted and never returned", async () => {
    const res = await register(validHost({ maxConcurrency: 3 }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    hostId = res.body.id;
    expect(res.body).toMatchObject({
      kind: "qemu",
      address: "127.0.0.1",
      state: "offline",
      capacity: { vcpus: 0, memoryMb: 0, diskGb: 0 },
      connection: { port: sshd.port, sshUser: sshd.user, hostKeyFingerprint: null, maxConcurrency: 3, sshPublicKey: expect.stringMatching(/^ssh-ed25519 /) },
    });
    // The public half shown for authorized_keys is the key's own public key.
    expect(res.body.connection.sshPublicKey.split(" ")[1]).toBe(sshd.publicKey.split(" ")[1]);
    expectNoSecret(res.body);

    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(row.sshPrivateKey).toMatch(/^v1:/);
    expect(row.sshPrivateKey).not.toContain(keyBody().slice(0, 20));
    expect(decryptHostSecret(hostId, row.sshPrivateKey!)).toBe(sshd.privateKey.trim());
    // Bound to its host: the same ciphertext does not open under another id.
    expect(() => decryptHostSecret(customer.id, row.sshPrivateKey!)).toThrow(/cannot be decrypted/);

    const [audit] = await db.select().from(auditEvents).where(eq(auditEvents.targetId, hostId));
    expect(audit).toMatchObject({ action: "host.register", actorId: admin.id, data: expect.objectContaining({ keyFingerprint: expect.stringMatching(/^SHA256:/) }) });
    expectNoSecret(audit);
  });

  it("cannot be activated before Test connection pinned its key and found its capacity", async () => {
    const res = await patchHost(hostId, { state: "active" });
    expect(res.status).toBe(409);
    expect(res.body.fields.state[0]).toMatch(/Test connection first/);
  });

  it("Test connection pins the host key on first contact and reports the host's capacity", async () => {
    const res = await testHost(hostId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.ok, res.body.error).toBe(true);
    expect(res.body.hostKey).toEqual({ fingerprint: sshd.hostKeyFingerprint, pinnedNow: true });
    const facts = localFacts();
    expect(res.body.check.facts).toMatchObject({ vcpus: facts.vcpus, memoryMb: facts.memoryMb, version: expect.stringMatching(/^QEMU emulator version \d+/) });
    expect(res.body.check.facts.diskGb).toBeGreaterThan(0);
    expect(res.body.host.capacity).toEqual({ vcpus: facts.vcpus, memoryMb: facts.memoryMb, diskGb: res.body.check.facts.diskGb });
    expectNoSecret(res.body);

    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(row).toMatchObject({ hostKeyFingerprint: sshd.hostKeyFingerprint, cpuCapacity: facts.vcpus, memoryMbCapacity: facts.memoryMb });
    const listed = (await listHosts()).body.hosts.find((h: { id: string }) => h.id === hostId);
    expect(listed.lastCheck).toMatchObject({ ok: true, presentedHostKey: sshd.hostKeyFingerprint });
    expectNoSecret(listed);

    // Now it can take environments.
    expect((await patchHost(hostId, { state: "active" })).body.state).toBe("active");
    // A second test presents the same key: nothing newly pinned.
    const again = await testHost(hostId);
    expect(again.body).toMatchObject({ ok: true, hostKey: { fingerprint: sshd.hostKeyFingerprint, pinnedNow: false } });
  });

  it("refuses a host whose key changed, naming both keys, and keeps the pinned one", async () => {
    const pinned = sshd.hostKeyFingerprint;
    const [before] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    await sshd.restart({ newHostKey: true });
    const res = await testHost(hostId);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.error).toContain(`pinned ${pinned}`);
    expect(res.body.error).toContain(`presented ${sshd.hostKeyFingerprint}`);
    expect(res.body.hostKey).toEqual({ fingerprint: pinned, pinnedNow: false });
    const [after] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(after.hostKeyFingerprint).toBe(pinned);
    expect(after.cpuCapacity).toBe(before.cpuCapacity);
    const audits = await db.select().from(auditEvents).where(eq(auditEvents.targetId, hostId));
    expect(audits.filter((a) => a.action === "host.test").map((a) => a.data)).toContainEqual(
      expect.objectContaining({ ok: false, presentedHostKey: sshd.hostKeyFingerprint, pinnedHostKey: null }),
    );

    // The admin checked the new key on the host and pins it; the host works again.
    expect((await patchHost(hostId, { hostKeyFingerprint: sshd.hostKeyFingerprint })).status).toBe(200);
    expect((await testHost(hostId)).body).toMatchObject({ ok: true, hostKey: { fingerprint: sshd.hostKeyFingerprint } });
  });

  it("a key the host does not accept fails the test and pins nothing", async () => {
    const other = path.join(keyDir, "stranger");
    generateKey(other);
    const res = await register(validHost({ privateKey: readFileSync(other, "utf8") }));
    expect(res.status).toBe(201);
    const tested = await testHost(res.body.id);
    expect(tested.body.ok).toBe(false);
    expect(tested.body.error).toMatch(/refused the key/);
    const [row] = await db.select().from(hosts).where(eq(hosts.id, res.body.id));
    expect(row.hostKeyFingerprint).toBeNull();
    expect(row.cpuCapacity).toBe(0);
  });

  it("a local host runs its discovery on the worker's machine, without SSH", async () => {
    const res = await register({ name: unique("local"), kind: "qemu", address: "local" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const tested = await testHost(res.body.id);
    expect(tested.body.ok, tested.body.error).toBe(true);
    expect(tested.body.hostKey).toBeNull();
    expect(tested.body.check.facts.vcpus).toBe(localFacts().vcpus);
  });

  it("changes SSH settings and rotates the key, audited without the key", async () => {
    const rotated = path.join(keyDir, "rotated");
    generateKey(rotated);
    const res = await patchHost(hostId, { maxConcurrency: 2, privateKey: readFileSync(rotated, "utf8") });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.connection.maxConcurrency).toBe(2);
    expect(res.body.connection.sshPublicKey.split(" ")[1]).toBe(readFileSync(`${rotated}.pub`, "utf8").split(" ")[1]);
    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(decryptHostSecret(hostId, row.sshPrivateKey!)).toBe(readFileSync(rotated, "utf8").trim());
    const audits = await db.select().from(auditEvents).where(eq(auditEvents.targetId, hostId));
    const update = audits.find((a) => a.action === "host.update" && (a.data as { keyChanged?: boolean }).keyChanged);
    expect(update?.data).toMatchObject({ maxConcurrency: 2, keyChanged: true, keyFingerprint: expect.stringMatching(/^SHA256:/) });
    for (const a of audits) expect(JSON.stringify(a)).not.toContain("PRIVATE KEY");
    // The rotated key is not in the server's authorized_keys: the next test says so.
    expect((await testHost(hostId)).body.error).toMatch(/refused the key/);
    expect((await patchHost(hostId, { privateKey: sshd.privateKey })).status).toBe(200);
    expect((await testHost(hostId)).body.ok).toBe(true);
  });
});

describe("Xen and Solaris hosts (emulated: the tools answer like the real ones, behind a real sshd)", () => {
  const started: EmulatedHost[] = [];
  afterAll(async () => {
    for (const h of started) await h.sshd.stop();
  });

  async function emulated(kind: "xen" | "zones", port: number, facts: { cpus: number; memoryMb: number }) {
    const host = await startEmulatedHost({ name: unique(kind), kind, port });
    started.push(host);
    writeFileSync(path.join(host.state, "host.json"), JSON.stringify(facts));
    const res = await register({ name: unique(kind), kind, address: host.sshd.host, port, sshUser: host.sshd.user, privateKey: host.sshd.privateKey });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { host, id: res.body.id as string };
  }

  it("Test connection on a Xen dom0 reads xl info and the guest volume group", async () => {
    const { host, id } = await emulated("xen", 2225, { cpus: 12, memoryMb: 24576 });
    const res = await testHost(id);
    expect(res.body.ok, res.body.error).toBe(true);
    expect(res.body.hostKey).toEqual({ fingerprint: host.sshd.hostKeyFingerprint, pinnedNow: true });
    expect(res.body.check.facts).toMatchObject({ vcpus: 12, memoryMb: 24576, diskGb: 500, version: expect.stringMatching(/^Xen 4\.17/) });
    expect(res.body.check.facts.details).toContainEqual(expect.stringMatching(/^volume group vg0: 500 GiB/));
    expect(res.body.host.capacity).toEqual({ vcpus: 12, memoryMb: 24576, diskGb: 500 });
  });

  it("discovery measures the volume group the host's settings name, and says when it is missing", async () => {
    const host = await startEmulatedHost({ name: unique("xen"), kind: "xen", port: 2227 });
    started.push(host);
    const res = await register({
      name: unique("xen"), kind: "xen", address: host.sshd.host, port: 2227, sshUser: host.sshd.user, privateKey: host.sshd.privateKey,
      config: { volumeGroup: "vgguests" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.settings).toMatchObject({ volumeGroup: "vgguests", configDir: "/etc/xen" });
    const tested = await testHost(res.body.id);
    expect(tested.body.ok).toBe(false);
    expect(tested.body.error).toBe("volume group vgguests (guest disks) not found on the host; it has: vg0");
    // The key was pinned all the same: the connection itself was fine.
    expect(tested.body.hostKey).toEqual({ fingerprint: host.sshd.hostKeyFingerprint, pinnedNow: true });
    const fixed = await patchHost(res.body.id, { config: { volumeGroup: "vg0" } });
    expect(fixed.body.settings.volumeGroup).toBe("vg0");
    expect((await testHost(res.body.id)).body.ok).toBe(true);
  });

  it("Test connection on a Solaris global zone reads zoneadm, zfs, psrinfo and prtconf, and says what dataset is missing", async () => {
    const { id } = await emulated("zones", 2226, { cpus: 4, memoryMb: 8192 });
    const res = await testHost(id);
    expect(res.body.ok, res.body.error).toBe(true);
    expect(res.body.check.facts).toMatchObject({ vcpus: 4, memoryMb: 8192 });
    expect(res.body.check.facts.details).toContainEqual(expect.stringMatching(/rpool\/zones does not exist yet/));
    expect(res.body.check.facts.details).toContainEqual("0 zones besides the global zone");
  });
});

describe("bad input", () => {
  const encryptedKey = () => {
    const file = path.join(keyDir, "with-passphrase");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret-passphrase", "-f", file]);
    return readFileSync(file, "utf8");
  };

  const cases: [string, string, unknown][] = [
    ["name", "with ;", "kvm-1; rm -rf /"],
    ["name", "with $()", "$(reboot)"],
    ["name", "with backticks", "kvm`id`"],
    ["name", "with a space", "kvm 1"],
    ["name", "with quotes", "kvm'1\""],
    ["name", "with a newline", "kvm\n1"],
    ["name", "oversized", "k".repeat(200)],
    ["address", "with ;", "127.0.0.1; touch /tmp/pwned"],
    ["address", "with $()", "$(id).example.org"],
    ["address", "with backticks", "`id`"],
    ["address", "with a space", "host name"],
    ["address", "with quotes", "'host'"],
    ["address", "with a newline", "host\nother"],
    ["address", "oversized", `${"a".repeat(63)}.`.repeat(5) + "org"],
    ["address", "an ssh option", "-oProxyCommand=sh"],
    ["address", "a bad IPv4", "256.1.1.1"],
    ["address", "an IPv4 with leading zeros", "010.0.0.1"],
    ["address", "a bad IPv6", "fd00::g1"],
    ["sshUser", "with ;", "root;id"],
    ["sshUser", "with $()", "$(id)"],
    ["sshUser", "with backticks", "`id`"],
    ["sshUser", "with a space", "port al"],
    ["sshUser", "with quotes", "'root'"],
    ["sshUser", "with a newline", "root\nid"],
    ["sshUser", "oversized", "a".repeat(40)],
    ["port", "with ;", "22; reboot"],
    ["port", "zero", 0],
    ["port", "too high", 70000],
    ["port", "a fraction", 22.5],
    ["maxConcurrency", "zero", 0],
    ["maxConcurrency", "too many", 11],
    ["hostKeyFingerprint", "with ;", "SHA256:abc; reboot"],
    ["privateKey", "not a key", "hello; rm -rf /"],
    ["privateKey", "a public key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILPlaFvZ5rFXdMUgRAPZwMbePo4z9GWNyjlo35zmdBdN alice@laptop"],
    ["privateKey", "oversized", `-----BEGIN OPENSSH PRIVATE KEY-----\n${"A".repeat(20_000)}\n-----END OPENSSH PRIVATE KEY-----`],
    ["privateKey", "garbage inside a key's frame", "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END OPENSSH PRIVATE KEY-----"],
    ["kind", "unknown", "vmware"],
  ];

  it.each(cases)("refuses %s %s with 422 and a message for that field, changing nothing", async (field, _what, value) => {
    const before = await rowCounts();
    const res = await register(validHost({ [field]: value }));
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.fields?.[field]?.[0], JSON.stringify(res.body)).toEqual(expect.any(String));
    expect(await rowCounts()).toEqual(before);
  });

  it("checks driver settings with the kind's own rules, per setting", async () => {
    const before = await rowCounts();
    const bad = await register(validHost({ kind: "xen", config: { volumeGroup: "vg0; reboot", configDir: "../etc", colour: "blue" } }));
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields).sort()).toEqual(["config.colour", "config.configDir", "config.volumeGroup"]);
    expect(bad.body.fields["config.colour"]).toEqual(["Unknown setting for xen hosts"]);
    expect((await register(validHost({ kind: "zones", config: "zonesDataset=rpool/z" }))).body.fields.config[0]).toMatch(/JSON object/);
    expect(await rowCounts()).toEqual(before);
  });

  it("merges a settings change, keeps a root password hash out of every answer and audit, and refuses settings on sim hosts", async () => {
    const created = await register(validHost({ kind: "zones", config: { zonesDataset: "tank/zones", timezone: "Europe/Berlin" } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const hash = "$6$saltsalt$" + "x".repeat(86);
    const changed = await patchHost(created.body.id, { config: { rootPasswordHash: hash, timezone: null } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.settings).toMatchObject({ zonesDataset: "tank/zones", timezone: "UTC", rootPasswordHash: "(set)" });
    const [row] = await db.select().from(hosts).where(eq(hosts.id, created.body.id));
    expect(row.config).toMatchObject({ zonesDataset: "tank/zones", rootPasswordHash: hash });
    const audits = await db.select().from(auditEvents).where(eq(auditEvents.targetId, created.body.id));
    for (const a of audits) expect(JSON.stringify(a.data)).not.toContain(hash);
    expect(JSON.stringify((await listHosts()).body)).not.toContain(hash);
    const [sim] = await db.select().from(hosts).where(eq(hosts.kind, "sim")).limit(1);
    expect((await patchHost(sim.id, { config: { stepMs: 1 } })).status).toBe(422);
  });

  it("refuses a key protected by a passphrase, saying so", async () => {
    const res = await register(validHost({ privateKey: encryptedKey() }));
    expect(res.status).toBe(422);
    expect(res.body.fields.privateKey[0]).toMatch(/passphrase/);
  });

  it("names every missing field of an SSH host, and refuses unknown fields", async () => {
    const missing = await register({ name: unique("kvm"), kind: "xen", address: "xen-01.example.org" });
    expect(missing.status).toBe(422);
    expect(Object.keys(missing.body.fields).sort()).toEqual(["privateKey", "sshUser"]);
    const extra = await register(validHost({ command: "reboot" }));
    expect(extra.status).toBe(422);
  });

  it("accepts the address forms a host can have", async () => {
    for (const address of ["xen-01.example.org", "10.0.0.5", "fd00::5", "::1", "Solaris10-A"]) {
      const res = await register(validHost({ address }));
      expect(res.status, `${address}: ${JSON.stringify(res.body)}`).toBe(201);
      expect((await removeHost(res.body.id)).status).toBe(200);
    }
  });

  it("refuses injection in a change too, leaving the host as it was", async () => {
    const created = await register(validHost());
    const [before] = await db.select().from(hosts).where(eq(hosts.id, created.body.id));
    for (const body of [{ sshUser: "root;id" }, { port: "22 && reboot" }, { hostKeyFingerprint: "$(id)" }, { privateKey: "x" }, { state: "gone" }]) {
      const res = await patchHost(created.body.id, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.fields)).toEqual(Object.keys(body));
    }
    const [after] = await db.select().from(hosts).where(eq(hosts.id, created.body.id));
    expect(after).toEqual(before);
  });

  it("a change with nothing in it changes and audits nothing", async () => {
    const created = await register(validHost());
    const before = await rowCounts();
    const res = await patchHost(created.body.id, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses a taken name with 409 on the name field", async () => {
    const name = unique("kvm");
    expect((await register(validHost({ name }))).status).toBe(201);
    const again = await register(validHost({ name }));
    expect(again.status).toBe(409);
    expect(again.body.fields.name[0]).toMatch(/already registered/);
  });

  it("lets only admins register, test, change and remove hosts", async () => {
    const created = await register(validHost());
    expect((await register(validHost(), token.customer)).status).toBe(403);
    expect((await testHost(created.body.id, token.customer)).status).toBe(403);
    expect((await patchHost(created.body.id, { state: "draining" }, token.customer)).status).toBe(403);
    expect((await removeHost(created.body.id, token.customer)).status).toBe(403);
  });
});

describe("removing a host", () => {
  it("is refused while an environment lives on it; afterwards the host is gone and its name free again", async () => {
    const name = unique("kvm");
    const created = await register(validHost({ name }));
    const hostId = created.body.id;
    const ordered = await order(db, customer);
    await db.insert(environments).values({
      orderId: ordered.id, hostId, hostname: unique("env"), vcpus: 1, memoryMb: 512, diskGb: 5, state: "running",
      placement: "test", expiresAt: new Date(Date.now() + 86_400_000),
    });
    const refused = await removeHost(hostId);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/still has 1 environment/);
    expect((await listHosts()).body.hosts.map((h: { id: string }) => h.id)).toContain(hostId);

    await db.update(environments).set({ state: "deleted" }).where(eq(environments.hostId, hostId));
    const removed = await removeHost(hostId);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    // The old environment still says where it ran; the key is wiped.
    expect(removed.body.removed).toBe("retired");
    const [row] = await db.select().from(hosts).where(eq(hosts.id, hostId));
    expect(row).toMatchObject({ sshPrivateKey: null, state: "offline" });
    expect((await listHosts()).body.hosts.map((h: { id: string }) => h.id)).not.toContain(hostId);
    expect((await testHost(hostId)).status).toBe(404);
    expect((await register(validHost({ name }))).status).toBe(201);
    const audits = await db.select().from(auditEvents).where(eq(auditEvents.targetId, hostId));
    expect(audits.map((a) => a.action)).toContain("host.remove");
  });

  it("deletes a host that never had an environment", async () => {
    const created = await register(validHost());
    const res = await removeHost(created.body.id);
    expect(res.body).toMatchObject({ removed: "deleted" });
    expect(await db.select().from(hosts).where(eq(hosts.id, created.body.id))).toEqual([]);
  });

  it("sim hosts have no connection to test", async () => {
    const [sim] = await db.select().from(hosts).where(eq(hosts.kind, "sim")).limit(1);
    expect((await testHost(sim.id)).status).toBe(409);
  });
});
