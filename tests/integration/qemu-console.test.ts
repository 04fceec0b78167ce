/**
 * The console of a real QEMU guest: its second serial port runs a login shell; through the
 * API a command typed with POST is answered on the SSE stream, two viewers see the same
 * output, a stranger gets 404, opening and closing are audited; the shell takes the window size
 * the Console card's fit types (stty rows, columns) or `resize` asks the terminal for; after a live migration the
 * console opens again on the new host (the destination QEMU has the same serial ports).
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as migrateRoute from "@/app/api/v1/environments/[id]/migrate/route";
import { auditEvents, environmentActions } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { openConsole, typeInto } from "../helpers/console";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder } from "../helpers/portal";
import { setupQemuHosts, type QemuHosts } from "../helpers/qemu-hosts";

const { db, admin } = await bootPortal();
const BOOT_MS = 240_000;
let worker: RunningWorkers;
let qemu: QemuHosts;
let token: { owner: string; admin: string; stranger: string };
let orderId: string;
let environmentId: string;
let hostname: string;

beforeAll(async () => {
  qemu = await setupQemuHosts(db, 2, { migrationPorts: [3405, 3409] });
  const group = await makeGroup(db, { autoApprove: true });
  token = {
    owner: await tokenFor(db, await makeUser(db, "customer", group.slug)),
    admin: await tokenFor(db, admin),
    stranger: await tokenFor(db, await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug)),
  };
  worker = await startWorkers();
  hostname = unique("con");
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: token.owner, body: { image: "linux-qemu", flavor: "small", name: hostname } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  orderId = res.body.id;
  await waitForOrder(db, orderId, ["ready", "failed"], BOOT_MS);
  const view = (await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token: token.owner, params: { id: orderId } })).body;
  expect(view.status, JSON.stringify(view.steps?.find((s: { status: string }) => s.status === "failed"))).toBe("ready");
  environmentId = view.environment.id;
}, BOOT_MS + 60_000);

afterAll(async () => {
  await worker?.stop();
  await qemu?.cleanup();
}, 60_000);

// The shell asks the terminal where its cursor is (ESC [6n) after each prompt: nothing must follow the prompt in the match.
const prompt = () => new RegExp(`root@${hostname}:\\S*# `);

describe("the console of a QEMU guest", () => {
  it("answers a command typed through the API on the stream; two viewers see the same output", async () => {
    const owner = await openConsole(environmentId, token.owner);
    const adminView = await openConsole(environmentId, token.admin);
    expect([owner.status, adminView.status]).toEqual([200, 200]);
    await owner.waitForOutput(prompt(), 60_000);

    // Worked out by the guest's shell: the answer cannot be an echo of what was typed.
    expect((await typeInto(environmentId, token.owner, "echo console-$((6*7)) on $(hostname)\r")).status).toBe(202);
    const answer = new RegExp(`\\r\\nconsole-42 on ${hostname}\\r\\n`);
    await owner.waitForOutput(answer, 30_000);
    await adminView.waitForOutput(answer, 30_000);
    // The shell runs on the second serial port, not on the boot console.
    expect((await typeInto(environmentId, token.admin, "tty\r")).status).toBe(202);
    await owner.waitForOutput(/\r\n\/dev\/ttyS1\r\n/, 30_000);
    await Promise.all([owner.close(), adminView.close()]);

    const rows = await waitFor(
      () => db.select().from(auditEvents).where(and(eq(auditEvents.targetId, environmentId))),
      (r) => r.filter((a) => a.action === "console.close").length === 2,
      { what: "two console.close audit rows" },
    );
    expect(rows.filter((a) => a.action === "console.open")).toHaveLength(2);
  }, 120_000);

  it("the guest's shell takes a window size: the stty line the Console card types, and resize asking the terminal", async () => {
    const v = await openConsole(environmentId, token.owner);
    expect(v.status).toBe(200);
    await v.waitForOutput(prompt(), 60_000);
    // What the Console card's "Fit guest to window" types.
    expect((await typeInto(environmentId, token.owner, "stty rows 41 columns 133; echo size-$(stty size | tr ' ' x)\r")).status).toBe(202);
    await v.waitForOutput(/\r\nsize-41x133\r\n/, 30_000);
    // `resize` asks the terminal where a far corner puts the cursor; the answer (here typed as
    // xterm.js would send it) becomes the line's size.
    expect((await typeInto(environmentId, token.owner, "resize\r")).status).toBe(202);
    await v.waitForOutput(/\x1b\[999;999H\x1b\[6n/, 30_000);
    expect((await typeInto(environmentId, token.owner, "\x1b[37;121R")).status).toBe(202);
    await v.waitForOutput(/COLUMNS=121 LINES=37\r\n/, 30_000);
    expect((await typeInto(environmentId, token.owner, "echo size-$(stty size | tr ' ' x)\r")).status).toBe(202);
    await v.waitForOutput(/\r\nsize-37x121\r\n/, 30_000);
    await v.close();
  }, 120_000);

  it("is not shown to a stranger (404)", async () => {
    expect((await openConsole(environmentId, token.stranger)).status).toBe(404);
    expect((await typeInto(environmentId, token.stranger, "reboot\r")).status).toBe(404);
  });

  it("opens again on the new host after a live migration", async () => {
    const view = (await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token: token.owner, params: { id: orderId } })).body;
    const to = qemu.hosts.find((h) => h.name !== view.environment.host)!;
    const res = await invoke(migrateRoute.POST, "POST", `/api/v1/environments/${environmentId}/migrate`, { token: token.admin, params: { id: environmentId }, body: { host: to.name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const moved = await waitFor(
      async () => (await db.select().from(environmentActions).where(eq(environmentActions.id, res.body.id)))[0]!,
      (a) => a.status === "succeeded" || a.status === "failed",
      { timeoutMs: BOOT_MS, intervalMs: 200, what: "the migration" },
    );
    expect(moved.status, moved.error ?? "").toBe("succeeded");

    // The bridge of the first test may still hold the old host's console until it ends;
    // a fresh viewer gets the guest's shell on the new host.
    const viewer = await waitFor(
      async () => {
        const v = await openConsole(environmentId, token.owner);
        await typeInto(environmentId, token.owner, "echo moved-$((40+2))\r");
        const seen = await v.waitForOutput(/\r\nmoved-42\r\n/, 5_000).then(() => true, () => false);
        if (!seen) await v.close();
        return seen ? v : null;
      },
      (v) => v !== null,
      { timeoutMs: 60_000, intervalMs: 500, what: "the console after the migration" },
    );
    await viewer!.close();
  }, BOOT_MS + 90_000);
});
