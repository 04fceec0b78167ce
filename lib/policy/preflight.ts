import { asc, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { flavors, groups, groupSettings, hosts, images, ipAllocations, networks, orders, quotas, users, type HostKind } from "../db/schema";
import { supportedHostKinds } from "../drivers";
import { StepError } from "../drivers/types";
import { notFound } from "../errors";
import { usableCount } from "../net/ipam";
import { poolOf, settingsOfRow } from "./groups";
import { candidatesOf, choose, inPool, usageOfHosts } from "./placement";
import {
  limitsOfRow, orderNeed, quotaLines, quotaResources, releasedStatuses, reportRefusals, usageByOwner, zero, type Amounts, type Limits, type QuotaReport,
} from "./quota";

/**
 * Pre-flight: would this order succeed if approved now? Computed at the moment it is asked,
 * from the same sources the pipeline and the order form use: a host kind the image runs on
 * that exists and is active (in the group's own hosts, if it has some), room on such a host
 * (placement), a free address on every network the environment gets (IPAM), the quotas,
 * and whether the group still offers the image, size and network.
 */
export type PreflightCheck = { key: string; label: string; ok: boolean; detail: string };
export type Preflight = { orderId: string; ok: boolean; checkedAt: string; checks: PreflightCheck[] };

/** Hosts named in a check at most: a portal with a hundred hosts lists the first few and a count. */
const HOSTS_NAMED = 5;

function someNames(names: string[]): string {
  return names.length <= HOSTS_NAMED ? names.join(", ") : `${names.slice(0, HOSTS_NAMED).join(", ")} and ${names.length - HOSTS_NAMED} more`;
}

/** Pre-flight of one order (404 when it does not exist). */
export async function preflight(db: Db, orderId: string): Promise<Preflight> {
  const [one] = await preflightMany(db, [orderId]);
  if (!one) throw notFound("Order");
  return one;
}

/**
 * Pre-flight of many orders at once (the approvals page), in the same fixed number of
 * statements whatever their number: everything the checks need is read for all of them
 * together, then each order is checked apart. Orders that do not exist are left out.
 */
export async function preflightMany(db: Db, orderIds: string[]): Promise<Preflight[]> {
  const ids = [...new Set(orderIds)];
  if (ids.length === 0) return [];
  const found = await db
    .select({ order: orders, image: images, flavor: flavors, group: groups, email: users.email })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .innerJoin(users, eq(users.id, orders.userId))
    .where(inArray(orders.id, ids));
  if (found.length === 0) return [];
  const groupIds = [...new Set(found.map((r) => r.group.id))];
  const userIds = [...new Set(found.map((r) => r.order.userId))];
  const orderNetworkIds = [...new Set(found.map((r) => r.order.networkId))];

  const [settingRows, activeHosts, nets, held, limitRows, groupUsage, userUsage] = await Promise.all([
    db.select().from(groupSettings).where(inArray(groupSettings.groupId, groupIds)),
    db.select().from(hosts).where(eq(hosts.state, "active")),
    // The oldest service network (every environment gets an address there) and the orders' own.
    db.select().from(networks).where(or(inArray(networks.id, orderNetworkIds), eq(networks.purpose, "service"))).orderBy(asc(networks.createdAt)),
    db.select({ orderId: ipAllocations.orderId, networkId: ipAllocations.networkId }).from(ipAllocations).where(inArray(ipAllocations.orderId, ids)),
    db.select().from(quotas).where(or(inArray(quotas.groupId, groupIds), inArray(quotas.userId, userIds))),
    usageByOwner(db, "group", groupIds),
    usageByOwner(db, "user", userIds),
  ]);
  const service = nets.find((n) => n.purpose === "service");
  const checkedNets = nets.filter((n) => n.id === service?.id || orderNetworkIds.includes(n.id));
  const [hostUsage, taken] = await Promise.all([
    usageOfHosts(db, activeHosts.map((h) => h.id)),
    checkedNets.length
      ? db
          .select({ networkId: ipAllocations.networkId, n: sql<number>`count(*)::int` })
          .from(ipAllocations)
          .where(inArray(ipAllocations.networkId, checkedNets.map((n) => n.id)))
          .groupBy(ipAllocations.networkId)
      : [],
  ]);
  const takenBy = new Map(taken.map((t) => [t.networkId, t.n]));

  const byId = new Map(found.map((r) => [r.order.id, r]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    const { order, image, flavor, group } = row;
    const s = settingRows.find((x) => x.groupId === group.id);
    const settings = settingsOfRow(s);
    const pool = poolOf(group.name, settings);
    const checks: PreflightCheck[] = [];

    // 1. A host kind the image runs on, that the portal drives, with an active host.
    const kinds = image.hostKinds.filter((k): k is HostKind => supportedHostKinds.includes(k as HostKind));
    const suitable = activeHosts.filter((h) => (kinds as string[]).includes(h.kind) && inPool(pool, h));
    checks.push({
      key: "host-kind",
      label: "Image runs on an active host",
      ok: suitable.length > 0,
      detail:
        kinds.length === 0
          ? `${image.name} runs on ${image.hostKinds.join(", ")}, none of which this portal drives`
          : suitable.length > 0
            ? `${image.name} runs on ${kinds.join(" or ")}; active${pool ? ` in ${pool.name}'s hosts` : ""}: ${someNames(suitable.map((h) => h.name))}`
            : `${image.name} needs an active ${kinds.join(" or ")} host${pool ? ` among ${pool.name}'s hosts` : ""}; there is none`,
    });

    // 2. Room for the flavor on one of them.
    const need = { vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb };
    if (suitable.length > 0) {
      try {
        const placement = choose(candidatesOf(activeHosts, hostUsage, kinds, pool), need);
        checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: true, detail: `would go to ${placement.reason}` });
      } catch (err) {
        if (!(err instanceof StepError)) throw err;
        checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: false, detail: err.message });
      }
    } else {
      checks.push({ key: "capacity", label: "Capacity on a suitable host", ok: false, detail: "no suitable active host to place it on" });
    }

    // 3. A free address on the service network and on the order's network.
    for (const net of checkedNets.filter((n) => n.id === service?.id || n.id === order.networkId)) {
      const free = usableCount(net.cidr, net.gateway) - (takenBy.get(net.id) ?? 0);
      const has = held.some((h) => h.orderId === id && h.networkId === net.id);
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
    const mine = orderNeed(image, flavor);
    const counted = !releasedStatuses.includes(order.status);
    const without = (used: Amounts | undefined): Amounts => {
      const u = used ?? zero;
      return counted ? (Object.fromEntries(quotaResources.map((r) => [r, u[r] - mine[r]])) as Amounts) : u;
    };
    const report: QuotaReport = {
      group: { id: group.id, name: group.name, lines: quotaLines(limitsOfRow(limitRows.find((q) => q.groupId === group.id)), without(groupUsage.get(group.id)), mine) },
      user: { id: order.userId, email: row.email, lines: quotaLines(limitsOfRow(limitRows.find((q) => q.userId === order.userId)), without(userUsage.get(order.userId)), mine) },
    };
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

    return [{ orderId: id, ok: checks.every((c) => c.ok), checkedAt: new Date().toISOString(), checks }];
  });
}
