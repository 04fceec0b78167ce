/**
 * How to connect, through the API: a delivered environment's `connection` says the login, the
 * first production address, the ssh command and which of the owner's keys glue installed (by
 * fingerprint); without a key it warns. What was installed stays what the page says when the
 * owner changes keys later. The order carries its lease, which follows the order to retired.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as destroyRoute from "@/app/api/v1/orders/[id]/destroy/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
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

const getOrder = (id: string) => invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token, params: { id } });
const delivered = async () => {
  const created = await order(db, customer);
  await waitForOrder(db, created.id, ["ready"]);
  return created.id;
};

describe("environment.connection", () => {
  it("says the login, the production address, the ssh command and the fingerprint of the key glue installed", async () => {
    expect((await invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token, body: { sshPublicKey: key } })).status).toBe(200);
    const id = await delivered();
    const { status, body } = await getOrder(id);
    expect(status).toBe(200);
    const production = body.environment.addresses.find((a: { purpose: string }) => a.purpose === "production").ip as string;
    expect(production).toMatch(/^10\.30\.0\.\d{1,3}$/);
    expect(body.environment.connection).toEqual({ user: "root", address: production, command: `ssh root@${production}`, keys: [{ name: "alice@laptop", fingerprint }] });

    // A key changed later is not on this guest: the answer keeps saying what was installed.
    expect((await invoke(sshKeyRoute.DELETE, "DELETE", "/api/v1/me/ssh-key", { token })).status).toBe(204);
    expect((await getOrder(id)).body.environment.connection.keys).toEqual([{ name: "alice@laptop", fingerprint }]);
  });

  it("warns when the owner had no key at delivery, and is null once destroyed", async () => {
    const id = await delivered();
    const { body } = await getOrder(id);
    expect(body.environment.connection.keys).toEqual([]);
    expect(body.environment.connection.command).toBe(`ssh root@${body.environment.connection.address}`);
    expect(body.environment.connection.warning).toMatch(/^No SSH key was installed: the owner had none/);
    expect(body.lease).toMatchObject({ status: "ready", daysLeft: 14, extendable: true });

    expect((await invoke(destroyRoute.POST, "POST", `/api/v1/orders/${id}/destroy`, { token, params: { id } })).status).toBe(200);
    await waitForOrder(db, id, ["retired"]);
    const gone = (await getOrder(id)).body;
    expect(gone.environment.connection).toBeNull();
    expect(gone.lease).toMatchObject({ status: "retired", daysLeft: 0, extendable: false });
  });
});
