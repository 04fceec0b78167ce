/**
 * The guest console through the API, on the sim driver (its simulated shell): a command typed
 * with POST is answered on the SSE stream, two viewers see the same session, only the owner
 * and admins may open or type (403 for an approver of the group, 404 for a stranger), opening
 * and closing are audited, and keystrokes are limited in size and rate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { auditEvents } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import * as stopRoute from "@/app/api/v1/environments/[id]/stop/route";
import { invoke } from "../helpers/http";
import { openConsole, typeInto } from "../helpers/console";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers | null = null;
let owner: Actor;
let token: { owner: string; other: string; admin: string; approver: string };
let envId: string;
let hostname: string;

beforeAll(async () => {
  const auto = await makeGroup(db, { autoApprove: true });
  owner = await makeUser(db, "customer", auto.slug);
  token = {
    owner: await tokenFor(db, owner),
    other: await tokenFor(db, await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug)),
    admin: await tokenFor(db, admin),
    approver: await tokenFor(db, await makeUser(db, "approver", auto.slug)),
  };
  worker = await startWorkers();
  const view = await waitForOrder(db, (await order(db, owner)).id);
  expect(view.status).toBe("ready");
  envId = view.environment!.id;
  hostname = view.environment!.hostname;
});

afterAll(async () => {
  await worker?.stop();
});

async function auditOf(action: string) {
  return db.select().from(auditEvents).where(and(eq(auditEvents.targetId, envId), eq(auditEvents.action, action)));
}

describe("console", () => {
  it("answers a typed command on the stream, and a second viewer sees the same session", async () => {
    const first = await openConsole(envId, token.owner);
    expect(first.status).toBe(200);
    await first.waitForOutput(new RegExp(`root@${hostname}:~# `));
    const second = await openConsole(envId, token.admin);
    expect(second.status).toBe(200);

    expect((await typeInto(envId, token.owner, "hostname\r")).status).toBe(202);
    await first.waitForOutput(new RegExp(`hostname\\r\\n${hostname}\\r\\n`));
    await second.waitForOutput(new RegExp(`hostname\\r\\n${hostname}\\r\\n`));

    // What the admin types, the owner sees.
    expect((await typeInto(envId, token.admin, "echo from-the-admin\r")).status).toBe(202);
    await first.waitForOutput(/echo from-the-admin\r\nfrom-the-admin\r\n/);
    await second.waitForOutput(/echo from-the-admin\r\nfrom-the-admin\r\n/);

    // A viewer who comes later gets the recent output first.
    const later = await openConsole(envId, token.owner);
    await later.waitForOutput(/from-the-admin\r\n/);
    await Promise.all([first.close(), second.close(), later.close()]);

    const opened = await auditOf("console.open");
    expect(opened.map((a) => a.actorId).sort()).toEqual([owner.id, owner.id, admin.id].sort());
    const closed = await waitFor(() => auditOf("console.close"), (rows) => rows.length === 3, { what: "three console.close audit rows" });
    expect(closed.every((a) => typeof (a.data as { seconds?: unknown }).seconds === "number")).toBe(true);
    // Keystrokes are not audited one by one.
    expect(await db.select().from(auditEvents).where(and(eq(auditEvents.action, "api.post"), eq(auditEvents.targetId, `/api/v1/environments/${envId}/console`)))).toEqual([]);
  });

  it("lets only the owner and admins in: 403 for an approver of the group, 404 for a stranger", async () => {
    expect((await openConsole(envId, token.approver)).status).toBe(403);
    expect((await openConsole(envId, token.other)).status).toBe(404);
    expect((await typeInto(envId, token.approver, "hostname\r")).status).toBe(403);
    expect((await typeInto(envId, token.other, "hostname\r")).status).toBe(404);
    const audits = await auditOf("console.open");
    expect(audits.some((a) => a.actorId !== owner.id && a.actorId !== admin.id)).toBe(false);
  });

  it("refuses keystrokes over 4 KiB and empty ones with 422", async () => {
    const big = await typeInto(envId, token.owner, "x".repeat(4097));
    expect(big.status).toBe(422);
    expect(big.body.fields.data[0]).toMatch(/At most 4096 characters/);
    expect((await typeInto(envId, token.owner, "")).status).toBe(422);
  });

  it("limits how fast keystrokes may come: 429 with a message once a user sends too many", async () => {
    let answer = await typeInto(envId, token.admin, "\x7f");
    for (let i = 0; i < 150 && answer.status === 202; i++) answer = await typeInto(envId, token.admin, "\x7f");
    expect(answer.status).toBe(429);
    expect(answer.body.error).toMatch(/^Too many keystroke requests: at most 150 in 10 seconds/);
  });

  it("ends when the guest stops, and says why it cannot open then", { timeout: 90_000 }, async () => {
    const viewer = await openConsole(envId, token.owner);
    await waitFor(async () => viewer.states(), (s) => s.some((line) => line.startsWith("connected:")), { what: "the console to connect" });
    const stop = await invoke(stopRoute.POST, "POST", `/api/v1/environments/${envId}/stop`, { token: token.owner, params: { id: envId } });
    expect(stop.status).toBe(202);
    await waitFor(async () => viewer.states(), (s) => s.some((line) => line.startsWith("closed:")), { what: "the console to close" });
    await viewer.close();

    const again = await openConsole(envId, token.owner);
    const states = await waitFor(async () => again.states(), (s) => s.some((line) => line.startsWith("unavailable:")), { what: "the console to say it is unavailable" });
    expect(states.find((line) => line.startsWith("unavailable:"))).toMatch(/is not running/);
    await again.close();
  });
});
