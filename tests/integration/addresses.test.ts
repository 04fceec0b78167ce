/**
 * Addresses under contention. No worker runs in this file: the tests drive the runs
 * themselves, all at once, so allocations really race each other.
 */
import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "@/lib/db/client";
import { destroyEnvironment, retryOrder } from "@/lib/orders/queries";
import { environments, ipAllocations, networks, pipelineRuns, simObjects } from "@/lib/db/schema";
import { allocateAddress, countFree, releaseAddresses } from "@/lib/net/ipam";
import { macForIp } from "@/lib/net/mac";
import { executeRun } from "@/lib/pipeline/engine";
import { UserError } from "@/lib/errors";
import { allocationsOf, bootPortal, injectFailures, order, orderStatus, unique } from "../helpers/portal";

const { db, admin } = await bootPortal();

/** Runs every queued or running run of the order until none is left (what a worker would do). */
async function drive(db: Db, orderId: string) {
  for (;;) {
    const runs = await db.select().from(pipelineRuns).where(and(eq(pipelineRuns.orderId, orderId), inArray(pipelineRuns.status, ["queued", "running"])));
    if (runs.length === 0) return orderStatus(db, orderId);
    for (const run of runs) await executeRun(db, run.id);
  }
}

async function addNetwork(slug: string, cidr: string, gateway: string, purpose: "production" | "service" = "production") {
  const [net] = await db.insert(networks).values({ slug, name: `Net ${slug}`, purpose, cidr, gateway, bridge: "br-test" }).returning();
  return net;
}

describe("IPAM on the database", () => {
  it("hands out every guest address of a /29 once, then fails clearly; the same order keeps its address; a freed one is reused", async () => {
    const net = await addNetwork(unique("lab"), "10.60.0.0/29", "10.60.0.1");
    expect(await countFree(db, net.id)).toBe(5);
    const owners = Array.from({ length: 5 }, () => randomUUID());
    const got = await Promise.all(owners.map((o) => allocateAddress(db, net.id, o)));
    expect(got.map((a) => a.ip).sort()).toEqual(["10.60.0.2", "10.60.0.3", "10.60.0.4", "10.60.0.5", "10.60.0.6"]);
    for (const a of got) expect(a.mac).toBe(macForIp(a.ip));
    expect(await countFree(db, net.id)).toBe(0);

    const extra = allocateAddress(db, net.id, randomUUID());
    await expect(extra).rejects.toBeInstanceOf(UserError);
    await expect(allocateAddress(db, net.id, randomUUID())).rejects.toMatchObject({
      status: 409,
      message: `Network ${net.name} (10.60.0.0/29) has no free address left`,
    });

    // Idempotent: asking again for an order that has an address returns that address.
    const again = await allocateAddress(db, net.id, owners[2]);
    expect(again).toEqual(got[2]);

    const freedIp = got[3].ip;
    expect(await releaseAddresses(db, owners[3])).toBe(1);
    expect(await countFree(db, net.id)).toBe(1);
    const reused = await allocateAddress(db, net.id, randomUUID());
    expect(reused).toMatchObject({ ip: freedIp, mac: macForIp(freedIp) });
  });

  it("follows the network's MAC prefix", async () => {
    const net = await addNetwork(unique("pfx"), "10.61.0.0/24", "10.61.0.1");
    await db.update(networks).set({ macPrefix: "06:aa:00" }).where(eq(networks.id, net.id));
    const a = await allocateAddress(db, net.id, randomUUID());
    expect(a).toMatchObject({ ip: "10.61.0.2", mac: "06:aa:00:3d:00:02" });
  });
});

describe("concurrent orders", () => {
  it("20 orders at once get 20 distinct addresses on each network and all are delivered", async () => {
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => order(db, admin, { name: unique(`burst${i}`) })));
    expect(created.every((c) => c.status === "queued")).toBe(true);
    const finals = await Promise.all(created.map((c) => drive(db, c.id)));
    expect(finals.map((f) => f.status)).toEqual(Array(20).fill("ready"));

    const rows = await db
      .select({ orderId: ipAllocations.orderId, network: networks.slug, ip: ipAllocations.ip, mac: ipAllocations.mac })
      .from(ipAllocations)
      .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
      .where(inArray(ipAllocations.orderId, created.map((c) => c.id)));
    for (const net of ["service", "production"]) {
      const mine = rows.filter((r) => r.network === net);
      expect(mine, net).toHaveLength(20);
      expect(new Set(mine.map((r) => r.ip)).size, `distinct IPs on ${net}`).toBe(20);
      expect(new Set(mine.map((r) => r.orderId)).size).toBe(20);
      expect(new Set(mine.map((r) => r.mac)).size).toBe(20);
    }
    // Each environment landed on exactly one host.
    const envs = await db.select().from(environments).where(inArray(environments.orderId, created.map((c) => c.id)));
    expect(envs).toHaveLength(20);
  });

  it("exhausting a /29 fails the extra orders with a clear reason; destroying one frees its address for the next order", async () => {
    const tiny = await addNetwork(unique("tiny"), "10.40.0.0/29", "10.40.0.1");
    const created = await Promise.all(Array.from({ length: 7 }, (_, i) => order(db, admin, { name: unique(`tiny${i}`), network: tiny.slug })));
    const finals = await Promise.all(created.map((c) => drive(db, c.id)));

    const ready = created.filter((_, i) => finals[i].status === "ready");
    const failed = created.filter((_, i) => finals[i].status === "failed");
    expect(ready).toHaveLength(5);
    expect(failed).toHaveLength(2);
    for (const f of failed) {
      expect((await orderStatus(db, f.id)).reason).toBe(`Step "Allocate IPs and MACs" failed: Network ${tiny.name} (10.40.0.0/29) has no free address left`);
      expect((await allocationsOf(db, f.id)).filter((a) => a.network === tiny.slug)).toEqual([]);
    }
    const tinyIps = (await db.select().from(ipAllocations).where(eq(ipAllocations.networkId, tiny.id))).map((a) => a.ip).sort();
    expect(tinyIps).toEqual(["10.40.0.2", "10.40.0.3", "10.40.0.4", "10.40.0.5", "10.40.0.6"]);

    // Destroy one delivered environment: its addresses go back to the pool.
    const victim = ready[0];
    const victimAddresses = await allocationsOf(db, victim.id);
    const victimTiny = victimAddresses.find((a) => a.network === tiny.slug)!;
    expect((await destroyEnvironment(db, admin, victim.id)).status).toBe("retiring");
    expect((await drive(db, victim.id)).status).toBe("retired");
    expect(await allocationsOf(db, victim.id)).toEqual([]);
    const [env] = await db.select().from(environments).where(eq(environments.orderId, victim.id));
    expect(env).toMatchObject({ state: "deleted" });
    expect(env.deletedAt).not.toBeNull();
    const hostObjects = await db.select().from(simObjects).where(and(eq(simObjects.name, env.hostname), inArray(simObjects.kind, ["guest", "volume"])));
    expect(hostObjects.map((o) => o.state)).toEqual(["deleted", "deleted"]);
    expect(await countFree(db, tiny.id)).toBe(1);

    // Retrying a failed order now takes the freed address, with the same MAC.
    await retryOrder(db, admin, failed[0].id);
    expect((await drive(db, failed[0].id)).status).toBe("ready");
    const reused = (await allocationsOf(db, failed[0].id)).find((a) => a.network === tiny.slug);
    expect(reused).toEqual(victimTiny);

    // And the network is full again: the other failed order fails the same way.
    await retryOrder(db, admin, failed[1].id);
    const second = await drive(db, failed[1].id);
    expect(second.status).toBe("failed");
    expect(second.reason).toMatch(/no free address left/);
  });
});

describe("destroy", () => {
  it("a failed teardown keeps the addresses and says why; retry finishes it and frees them", async () => {
    const created = await order(db, admin);
    expect((await drive(db, created.id)).status).toBe("ready");
    const held = await allocationsOf(db, created.id);
    expect(held).toHaveLength(2);

    await injectFailures(db, { destroy: 1 });
    try {
      await destroyEnvironment(db, admin, created.id);
      const failed = await drive(db, created.id);
      expect(failed.status).toBe("failed");
      expect(failed.reason).toMatch(/^Step "Remove guest and storage" failed: sim-\d: injected failure in step destroy/);
      const [env] = await db.select().from(environments).where(eq(environments.orderId, created.id));
      expect(env.state).toBe("error");
      expect(await allocationsOf(db, created.id)).toEqual(held);
    } finally {
      await injectFailures(db, {});
    }

    const retried = await retryOrder(db, admin, created.id);
    expect(retried.status).toBe("retiring");
    expect((await drive(db, created.id)).status).toBe("retired");
    expect(await allocationsOf(db, created.id)).toEqual([]);
    const [env] = await db.select().from(environments).where(eq(environments.orderId, created.id));
    expect(env.state).toBe("deleted");
  });

  it("only a delivered environment can be destroyed", async () => {
    const created = await order(db, admin);
    await expect(destroyEnvironment(db, admin, created.id)).rejects.toMatchObject({ status: 409 });
    expect((await orderStatus(db, created.id)).status).toBe("queued");
  });
});
