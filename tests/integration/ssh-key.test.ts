/**
 * A user's SSH key through the API: set, read back with its fingerprint, refused when it could
 * smuggle anything into a guest (422, nothing changed), installed by glue in the environments
 * the user orders, removed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import { auditEvents } from "@/lib/db/schema";
import { orderView } from "@/lib/orders/queries";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, waitForOrder, type Actor } from "../helpers/portal";
import { ALICE_FINGERPRINT as fingerprint, ALICE_KEY as key } from "../fixtures/ssh-keys";


const { db } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;
let token: string;

beforeAll(async () => {
  customer = await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug);
  token = await tokenFor(db, customer);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

const get = () => invoke(sshKeyRoute.GET, "GET", "/api/v1/me/ssh-key", { token });
const put = (body: unknown) => invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token, body });

describe("SSH key", () => {
  it("starts empty, is set and read back with its fingerprint, and the change is audited", async () => {
    expect((await get()).body).toEqual({ sshPublicKey: null, fingerprint: null });
    const saved = await put({ sshPublicKey: `  ${key}\n` });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ sshPublicKey: key, fingerprint });
    expect((await get()).body).toEqual({ sshPublicKey: key, fingerprint });
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.actorId, customer.id), eq(auditEvents.action, "user.ssh_key.set")));
    expect(audit.map((a) => a.data)).toEqual([{ fingerprint }]);
  });

  it("refuses keys that would put more than a key into a guest, with 422 and a message, and keeps the old key", async () => {
    for (const bad of [`${key}; rm -rf /`, `${key}\nssh-ed25519 AAAA x`, `command="sh" ${key}`, "ssh-ed25519 $(reboot)"]) {
      const res = await put({ sshPublicKey: bad });
      expect(res.status, bad).toBe(422);
      expect(res.body.fields.sshPublicKey[0]).toBeTruthy();
    }
    expect((await get()).body.sshPublicKey).toBe(key);
  });

  it("is installed by glue in an environment the user orders", async () => {
    const created = await order(db, customer);
    await waitForOrder(db, created.id, ["ready"]);
    const glue = (await orderView(db, created.id)).steps.find((s) => s.name === "glue")!;
    expect(glue.log.map((l) => l.line)).toContain(`authorized_keys: owner's key ${fingerprint} installed`);
  });

  it("is removed with DELETE, and needs a signed-in caller", async () => {
    expect((await invoke(sshKeyRoute.DELETE, "DELETE", "/api/v1/me/ssh-key", { token })).status).toBe(204);
    expect((await get()).body).toEqual({ sshPublicKey: null, fingerprint: null });
    expect((await invoke(sshKeyRoute.GET, "GET", "/api/v1/me/ssh-key")).status).toBe(401);
  });
});
