/**
 * Usage of a real QEMU guest: delivered on a local QEMU host, sampled idle, then while its
 * owner runs a busy loop in it over SSH: its CPU % (from the QEMU process's CPU time) rises
 * well above the idle one; its memory (QEMU's resident set), its disk (the guest's folder)
 * and its network (its tap's counters in the host's namespace) are reported, and so is the
 * host's own use (/proc/stat, /proc/meminfo, df of the work folder).
 */
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hosts, usageSamples } from "@/lib/db/schema";
import { sampleUsage } from "@/lib/usage/sample";
import { bootPortal, unique } from "../helpers/portal";
import { netnsName } from "../helpers/qemu-hosts";
import { placeOrder, pinServiceHostKey, readyView, startQemuCustomer, type QemuCustomer } from "../helpers/qemu-orders";
import { guestSsh } from "../helpers/guest-ssh";

vi.hoisted(() => {
  // The test takes the samples itself; the scheduler's rounds stay out of the way.
  process.env.USAGE_SAMPLE_MS = "3600000";
});

const { db } = await bootPortal();
const BOOT_MS = 240_000;
/** Wall time between two samples: enough CPU time to tell busy from idle. */
const GAP_MS = 4000;
const keyDir = mkdtempSync("/tmp/pq-usage-");
const ownerKey = path.join(keyDir, "owner");
const knownHosts = path.join(keyDir, "known_hosts");
let customer: QemuCustomer | undefined;
let environmentId: string;
let hostRow: typeof hosts.$inferSelect;
let address: string;

beforeAll(async () => {
  customer = await startQemuCustomer(db, { ownerKey });
  const orderId = await placeOrder(customer.token, { image: "linux-qemu", flavor: "small", name: unique("usage") });
  const view = await readyView(db, customer.token, orderId, BOOT_MS);
  environmentId = view.environment.id;
  [hostRow] = await db.select().from(hosts).where(eq(hosts.name, view.environment.host));
  address = pinServiceHostKey(customer.qemu, view, knownHosts);
}, BOOT_MS + 60_000);

afterAll(async () => {
  await customer?.stop();
  rmSync(keyDir, { recursive: true, force: true });
}, 60_000);

const ssh = (command: string) => guestSsh({ netns: netnsName(hostRow), address, key: ownerKey, knownHosts }, command);

/** Samples the host (through its owner, as the job does) and returns the guest's newest raw row. */
async function sample() {
  const round = await sampleUsage(db, { owner: hostRow.ownerWorker, hostIds: [hostRow.id] });
  expect(round.skipped).toEqual([]);
  const [row] = await db
    .select()
    .from(usageSamples)
    .where(and(eq(usageSamples.subjectId, environmentId), eq(usageSamples.resolution, "raw")))
    .orderBy(desc(usageSamples.at))
    .limit(1);
  return row;
}

describe("usage of a QEMU guest", () => {
  it("CPU % rises above the idle one while the guest burns CPU; memory, disk and network are reported", async () => {
    await sample();
    await sleep(GAP_MS);
    const idle = await sample();
    expect(idle.cpuPercent).not.toBeNull();
    expect(idle.memoryBytes).toBeGreaterThan(16 * 1024 ** 2);
    expect(idle.diskBytes).toBeGreaterThan(1024 ** 2);
    expect(idle.rxBytesTotal).not.toBeNull();

    // A busy loop for a while in the background, started over SSH (which itself is network traffic).
    const burn = await ssh("(timeout 60 sh -c 'while :; do :; done' >/dev/null 2>&1 &) ; echo started");
    expect(burn, burn.stderr).toMatchObject({ code: 0, stdout: "started\n" });
    await sample();
    await sleep(GAP_MS);
    const busy = await sample();
    await ssh("pkill -f 'while :' || true");
    console.log(`[qemu-usage] idle ${idle.cpuPercent?.toFixed(1)}%, busy ${busy.cpuPercent?.toFixed(1)}% of its vCPUs; memory ${((busy.memoryBytes ?? 0) / 1024 ** 2).toFixed(0)} MiB; disk ${((busy.diskBytes ?? 0) / 1024 ** 2).toFixed(0)} MiB`);
    expect(busy.cpuPercent, `idle ${idle.cpuPercent}%, busy ${busy.cpuPercent}%`).toBeGreaterThan(idle.cpuPercent! + 30);
    expect(busy.txBytesTotal! + busy.rxBytesTotal!).toBeGreaterThan(idle.txBytesTotal! + idle.rxBytesTotal!);

    const [host] = await db
      .select()
      .from(usageSamples)
      .where(and(eq(usageSamples.subjectId, hostRow.id), eq(usageSamples.resolution, "raw")))
      .orderBy(desc(usageSamples.at))
      .limit(1);
    expect(host.cpuPercent).toBeGreaterThan(0);
    expect(host.memoryBytes).toBeGreaterThan(0);
    expect(host.diskBytes).toBeGreaterThan(0);
  }, 120_000);
});
