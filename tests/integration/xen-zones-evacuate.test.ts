/**
 * Evacuating Xen and Solaris hosts through the portal's API, over real SSH against the host
 * emulators (tests/emulators: xl with `xl migrate` to a peer on a shared volume group,
 * zoneadm detach/attach with `zfs send | ssh zfs receive`). Real Xen and Solaris cannot run
 * here: this checks that the planned commands reach the hosts and leave them as an admin
 * would check: the running Xen guest migrated live and runs on the other host, the running
 * zone moved cold after its owner was told (notification and e-mail first), stopped guests
 * moved and still stopped until started there, and both hosts offline and empty.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const { smtpPort } = vi.hoisted(() => {
  // Before lib/env.ts reads the configuration: mail goes to the sink started below.
  const smtpPort = 3652;
  process.env.SMTP_URL = `smtp://127.0.0.1:${smtpPort}/`;
  process.env.MAIL_FROM = "portal@portal.test";
  process.env.MAIL_RETRY_MS = "100";
  return { smtpPort };
});

import { and, eq, ne } from "drizzle-orm";
import * as evacuateRoute from "@/app/api/v1/hosts/[id]/evacuate/route";
import * as evacuationRoute from "@/app/api/v1/evacuations/[id]/route";
import { environments, hosts, notifications, users } from "@/lib/db/schema";
import { requestAction } from "@/lib/lifecycle/actions";
import type { EvacuationView } from "@/lib/fleet/queries";
import { invoke } from "../helpers/http";
import { bootPortal, order, tokenFor, waitFor, waitForAction, waitForOrder, type Actor } from "../helpers/portal";
import { connectPeers, mustRun, prepareXenHost, prepareZonesHost, runOn, sharedDir, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";
import { portalOnEmulatedHosts } from "../helpers/emulated-portal";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { KEY } from "../fixtures/plan-orders";

const { db, admin } = await bootPortal();
let xenA: EmulatedHost, xenB: EmulatedHost, solA: EmulatedHost, solB: EmulatedHost;
let portal: Awaited<ReturnType<typeof portalOnEmulatedHosts>> | undefined;
let sink: SmtpSink;
let owner: Actor;
let adminToken: string;

beforeAll(async () => {
  sink = await startSmtpSink(smtpPort);
  [xenA, xenB, solA, solB] = await Promise.all([
    startEmulatedHost({ name: "xen-ea", kind: "xen", port: 3650, sharedLvm: sharedDir("san-ev") }),
    startEmulatedHost({ name: "xen-eb", kind: "xen", port: 3651, sharedLvm: sharedDir("san-ev") }),
    startEmulatedHost({ name: "sol-ea", kind: "zones", port: 3653 }),
    startEmulatedHost({ name: "sol-eb", kind: "zones", port: 3654 }),
  ]);
  connectPeers([xenA, xenB]);
  connectPeers([solA, solB]);
  // What an admin prepares: Xen kernels and a golden volume on the shared volume group; the zones datasets and a golden zone.
  await prepareXenHost(xenA, "golden-linux-test");
  await prepareXenHost(xenB);
  await prepareZonesHost(solA, { name: "golden-solaris10-sparse" });
  await prepareZonesHost(solB);

  portal = await portalOnEmulatedHosts(db, [xenA, xenB, solA, solB]);
  owner = portal.owner;
  await db.update(users).set({ sshPublicKey: KEY }).where(eq(users.id, owner.id));
  adminToken = await tokenFor(db, admin);
}, 60_000);

afterAll(async () => {
  await (portal ? portal.stop() : stopEmulatedHosts([xenA, xenB, solA, solB]));
  await sink?.close();
});

const state = (h: EmulatedHost, s: "active" | "draining") => db.update(hosts).set({ state: s }).where(eq(hosts.id, h.host.id));
const hostState = async (h: EmulatedHost) => (await db.select({ state: hosts.state }).from(hosts).where(eq(hosts.id, h.host.id)))[0]!.state;

async function delivered(image: string, name: string) {
  const created = await order(db, owner, { image, flavor: "small", name });
  const view = await waitForOrder(db, created.id, undefined, 60_000);
  expect(view.status, view.reason ?? "").toBe("ready");
  return { orderId: created.id, environmentId: view.environment!.id, host: view.environment!.host };
}

async function stopped(environmentId: string) {
  const stop = await requestAction(db, owner, environmentId, "stop");
  expect((await waitForAction(db, stop.id, 60_000)).status).toBe("succeeded");
}

async function evacuated(h: EmulatedHost): Promise<EvacuationView> {
  const res = await invoke(evacuateRoute.POST, "POST", `/api/v1/hosts/${h.host.id}/evacuate`, { token: adminToken, params: { id: h.host.id }, body: { parallel: 2 } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitFor(
    async () => (await invoke(evacuationRoute.GET, "GET", `/api/v1/evacuations/${res.body.id}`, { token: adminToken, params: { id: res.body.id } })).body as EvacuationView,
    (e) => e.status !== "running",
    { timeoutMs: 120_000, intervalMs: 200, what: `the evacuation of ${h.name}` },
  );
}

const moveOf = (e: EvacuationView, envId: string) => e.moves.find((m) => m.environment.id === envId)!;
const envRow = async (id: string) => (await db.select().from(environments).where(eq(environments.id, id)))[0]!;

describe("evacuating emulated Xen and Solaris hosts", () => {
  it("moves a running Xen guest live (xl migrate) and a stopped one by its configuration; the host ends offline", async () => {
    await state(xenB, "draining");
    const running = await delivered("linux-test", "evx1");
    const idle = await delivered("linux-test", "evx2");
    expect([running.host, idle.host]).toEqual([xenA.name, xenA.name]);
    await stopped(idle.environmentId);
    await state(xenB, "active");

    const done = await evacuated(xenA);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    expect(moveOf(done, running.environmentId)).toMatchObject({ status: "moved", mode: "live", to: { name: xenB.name }, downtimeMs: null });
    expect(moveOf(done, idle.environmentId)).toMatchObject({ status: "moved", mode: "cold", to: { name: xenB.name }, downtimeMs: null });
    // What an admin checks on the hosts: the running guest runs on xen-eb, the stopped one is configured there and still down.
    expect((await runOn(xenB, ["xl", "list", "evx1"])).code).toBe(0);
    expect((await runOn(xenA, ["xl", "list", "evx1"])).code).not.toBe(0);
    expect((await runOn(xenB, ["xl", "list", "evx2"])).code).not.toBe(0);
    expect((await runOn(xenB, ["test", "-f", `${xenB.state}/etc/xen/evx2.cfg`])).code).toBe(0);
    expect((await runOn(xenA, ["test", "-f", `${xenA.state}/etc/xen/evx2.cfg`])).code).not.toBe(0);
    expect(await envRow(running.environmentId)).toMatchObject({ hostId: xenB.host.id, state: "running" });
    expect(await envRow(idle.environmentId)).toMatchObject({ hostId: xenB.host.id, state: "stopped" });
    expect(await hostState(xenA)).toBe("offline");
    expect(await db.select().from(environments).where(and(eq(environments.hostId, xenA.host.id), ne(environments.state, "deleted")))).toEqual([]);

    // Started again, the stopped guest boots on its new host from the configuration the move wrote.
    const start = await requestAction(db, owner, idle.environmentId, "start");
    expect((await waitForAction(db, start.id, 60_000)).status).toBe("succeeded");
    expect((await runOn(xenB, ["xl", "list", "evx2"])).code).toBe(0);
  }, 180_000);

  it("tells a running zone's owner before its cold move, moves a halted zone too, and ends with the host offline", async () => {
    await state(solB, "draining");
    const running = await delivered("solaris10-sparse", "evz1");
    const idle = await delivered("solaris10-sparse", "evz2");
    expect([running.host, idle.host]).toEqual([solA.name, solA.name]);
    await stopped(idle.environmentId);
    await state(solB, "active");

    const done = await evacuated(solA);
    expect(done.status, JSON.stringify(done.moves)).toBe("completed");
    const zoneMove = moveOf(done, running.environmentId);
    expect(zoneMove).toMatchObject({ status: "moved", mode: "cold", to: { name: solB.name } });
    expect(zoneMove.downtimeMs!).toBeGreaterThan(0);
    expect(moveOf(done, idle.environmentId)).toMatchObject({ status: "moved", mode: "cold", to: { name: solB.name }, downtimeMs: null });

    // The owner was told before the zone went down (in the app and by e-mail), and again once it ran on sol-eb.
    const told = await db.select().from(notifications).where(and(eq(notifications.userId, owner.id), eq(notifications.link, `/orders/${running.orderId}`)));
    const moving = told.find((n) => n.kind === "environment.moving")!;
    expect(moving).toMatchObject({ title: `evz1 is being moved to ${solB.name}` });
    expect(moving.body).toContain(`maintenance of ${solA.name}; a cold move halts it, copies it and boots it on ${solB.name}, so it is down meanwhile`);
    expect(moving.createdAt.getTime()).toBeLessThanOrEqual(Date.parse(zoneMove.startedAt!));
    expect(told.find((n) => n.kind === "environment.moved")).toMatchObject({ title: `evz1 moved to ${solB.name}` });
    expect(told.filter((n) => n.kind === "environment.moving")).toHaveLength(1);
    // Only the running zone's owner is warned: the halted one has no downtime.
    expect(await db.select().from(notifications).where(and(eq(notifications.link, `/orders/${idle.orderId}`), eq(notifications.kind, "environment.moving")))).toEqual([]);
    const mail = await waitFor(async () => sink.to(owner.email).filter((m) => m.subject === `evz1 is being moved to ${solB.name}`), (m) => m.length === 1, { what: "the warning e-mail" });
    expect(mail[0]!.text).toContain("it is down meanwhile");

    expect((await runOn(solB, ["zoneadm", "-z", "evz1", "list", "-p"])).stdout).toMatch(/:evz1:running:/);
    expect((await runOn(solB, ["zoneadm", "-z", "evz2", "list", "-p"])).stdout).toMatch(/:evz2:installed:/);
    for (const z of ["evz1", "evz2"]) expect((await runOn(solA, ["zoneadm", "-z", z, "list", "-p"])).code).not.toBe(0);
    expect(await envRow(idle.environmentId)).toMatchObject({ hostId: solB.host.id, state: "stopped" });
    expect(await hostState(solA)).toBe("offline");

    const start = await requestAction(db, owner, idle.environmentId, "start");
    expect((await waitForAction(db, start.id, 60_000)).status).toBe("succeeded");
    expect((await runOn(solB, ["zoneadm", "-z", "evz2", "list", "-p"])).stdout).toMatch(/:evz2:running:/);
  }, 180_000);
});
