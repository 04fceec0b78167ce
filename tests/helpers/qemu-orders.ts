/**
 * A customer ordering real QEMU guests through the API, as the QEMU tests set one up, and the
 * order's view once the guest is ready. Needs root (network namespaces and taps; CI runs as root).
 */
import { expect } from "vitest";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import type { Db } from "@/lib/db/client";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { pinHostKeyFromConsole, putOwnerKey } from "./guest-ssh";
import { invoke } from "./http";
import { makeGroup, makeUser, tokenFor, waitForOrder } from "./portal";
import { guestFiles, setupQemuHosts, type QemuHosts } from "./qemu-hosts";

/**
 * `hosts` QEMU hosts, an auto-approving group, a customer with an API token and an SSH key of
 * their own (private half in `ownerKey`), and a worker in this process. `stop()` ends the
 * worker and removes the hosts.
 */
export async function startQemuCustomer(db: Db, opts: { ownerKey: string; hosts?: number }) {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create network namespaces and taps (CI runs as root)");
  const qemu = await setupQemuHosts(db, opts.hosts ?? 1);
  let worker: RunningWorkers | undefined;
  const stop = async () => {
    await worker?.stop();
    await qemu.cleanup();
  };
  try {
    const group = await makeGroup(db, { autoApprove: true });
    const token = await tokenFor(db, await makeUser(db, "customer", group.slug));
    await putOwnerKey(token, opts.ownerKey);
    worker = await startWorkers();
    return { qemu, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type QemuCustomer = Awaited<ReturnType<typeof startQemuCustomer>>;

type StepOfView = { status: string; error: string | null; log: { line: string }[] };

/** Places an order as the token's user (201 Created); its id. */
export async function placeOrder(token: string, body: Record<string, unknown>): Promise<string> {
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Waits until the order is delivered and returns its view (GET /api/v1/orders/:id); a failed one fails with its failed step's error and log. */
export async function readyView<T = any>(db: Db, token: string, orderId: string, timeoutMs: number): Promise<T> {
  await waitForOrder(db, orderId, ["ready", "failed"], timeoutMs);
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${orderId}`, { token, params: { id: orderId } });
  expect(res.status).toBe(200);
  const failed = (res.body.steps as StepOfView[] | undefined)?.find((s) => s.status === "failed");
  expect(res.body.status, failed ? `${failed.error}\n${failed.log.map((l) => l.line).join("\n")}` : undefined).toBe("ready");
  return res.body as T;
}

/** The guest's service address; the guest's SSH host key, read from its boot console, is pinned for it in `knownHosts`. */
export function pinServiceHostKey(qemu: QemuHosts, view: { environment: { host: string; hostname: string; addresses: { purpose: string; ip: string }[] } }, knownHosts: string): string {
  const address = view.environment.addresses.find((a) => a.purpose === "service")!.ip;
  pinHostKeyFromConsole(guestFiles(qemu.guestDir(view.environment.host, view.environment.hostname)).serialLog, address, knownHosts);
  return address;
}
