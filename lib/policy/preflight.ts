import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { flavors, groups, hosts, images, ipAllocations, networks, orders, users, type HostKind } from "../db/schema";
import { supportedHostKinds } from "../drivers";
import { StepError } from "../drivers/types";
import { notFound } from "../errors";
import { countFree, usableCount } from "../net/ipam";
import { poolOf, settingsOf } from "./groups";
import { candidateHosts, choose, inPool } from "./placement";
import { orderNeed, quotaReport, reportRefusals } from "./quota";

/**
 * Pre-flight: would this order succeed if approved now? Computed at the moment it is asked,
 * from the same sources the pipeline and the order form use: a host kind the image runs on
 * that exists and is active (in the group's own hosts, if it has some), room on such a host
 * (placement), a free address on every network the environment gets (IPAM), the quotas,
 * and whether the group still offers the image, size and network.
 */
export type PreflightCheck = { key: string; label: string; ok: boolean; detail: string };
export type Preflight = { orderId: string; ok: boolean; checkedAt: string; checks: PreflightCheck[] };

export async function preflight(db: Db, orderId: string): Promise<Preflight> {
  const [row] = await db
    .select({ order: orders, image: images, flavor: flavors, group: groups, email: users.email })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .innerJoin(users, eq(users.id, orders.userId))
    .where(eq(orders.id, orderId));
  if (!row) throw notFound("Order");
  const { order, image, flavor, group } = row;
  const checks: PreflightCheck[] = [];
  const settings = await settingsOf(db, group.id);
  const pool = poolOf(group.name, settings);

  // 1. A host kind the image runs on, that the portal drives, with an active host.
  const kinds = image.hostKinds.filter((k): k is HostKind => supportedHostKinds.includes(k as HostKind));
  const activeHosts = kinds.length
    ? (await db.select().from(hosts).where(and(eq(hosts.state, "active"), inArray(hosts.kind, kinds)))).filter((h) => inPool(pool, h))
    : [];
  checks.push({
    key: "host-kind",
    label: "Image runs on an active host",
    ok: activeHosts.length > 0,
    detail:
      kinds.length === 0
        ? `${image.name} runs on ${image.hostKinds.join(", ")}, none of which this portal drives`
        : activeHosts.length > 0
          ? `${image.name} runs on ${kinds.join(" or ")}; active${pool ? ` in ${pool.name}'s hosts` : ""}: ${activeHosts.map((h) => h.name).join(", ")}`
          : `${image.name} needs an active ${kinds.join(" or ")} host${pool ? ` among ${pool.name}'s hosts` : ""}; there is none`,
  });

  // 2. Room for the flavor on one of them.
  const need = { vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb };
  if (activeHosts.length > 0) {
    try {
      const placement = choose(await candidateHosts(db, kinds, { pool, lock: false }), need);
      checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: true, detail: `would go to ${placement.reason}` });
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: false, detail: err.message });
    }
  } else {
    checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: false, detail: "no suitable active host to place it on" });
  }

  // 3. A free address on the service network and on the order's network.
  const [service] = await db.select().from(networks).where(eq(networks.purpose, "service")).orderBy(asc(networks.createdAt)).limit(1);
  const networkIds = [...new Set([service?.id, order.networkId].filter((x): x is string => Boolean(x)))];
  const nets = await db.select().from(networks).where(inArray(networks.id, networkIds));
  const held = await db.select({ networkId: ipAllocations.networkId }).from(ipAllocations).where(eq(ipAllocations.orderId, orderId));
  for (const net of nets) {
    const free = await countFree(db, net.id);
    const has = held.some((h) => h.networkId === net.id);
    checks.push({
      key: `network:${net.slug}`,
      label: `Free address on ${net.name}`,
      ok: has || free > 0,
      detail: has
        ? "the order already holds an address there"
        : `${free} of ${usableCount(net.cidr, net.gateway)} addresses free in ${net.cidr}`,
    });
  }

  // 4. Quotas of the group and the user, with this order counted once.
  const report = await quotaReport(db, { group: { id: group.id, name: group.name }, user: { id: order.userId, email: row.email } }, orderNeed(image, flavor), orderId);
  const refused = reportRefusals(report);
  checks.push({
    key: "quota",
    label: "Within quota",
    ok: refused.length === 0,
    detail: refused.length ? refused.join("; ") : `fits the quotas of group ${group.name} and of ${row.email}`,
  });

  // 5. The group still offers what was ordered (an admin may have changed it since).
  const offered: string[] = [];
  if (settings.imageIds.length && !settings.imageIds.includes(image.id)) offered.push(`the image ${image.name}`);
  if (settings.flavorIds.length && !settings.flavorIds.includes(flavor.id)) offered.push(`the size ${flavor.name}`);
  if (settings.networkIds.length && !settings.networkIds.includes(order.networkId)) offered.push("the network");
  checks.push({
    key: "group",
    label: `Offered to group ${group.name}`,
    ok: offered.length === 0,
    detail: offered.length ? `group ${group.name} no longer offers ${offered.join(", ")}` : "image, size and network are allowed for the group",
  });

  return { orderId, ok: checks.every((c) => c.ok), checkedAt: new Date().toISOString(), checks };
}
