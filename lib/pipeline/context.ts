import { and, asc, eq, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, flavors, hosts, images, ipAllocations, networks, orders, serviceIps, users } from "../db/schema";
import type { DeploySpec } from "../drivers/types";
import { networkPolicy } from "../net/routes";

/** Everything a step needs to know about its order, read fresh from the database. */
export async function loadOrderContext(db: Db, orderId: string) {
  const [row] = await db
    .select({ order: orders, image: images, flavor: flavors, user: users })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(users, eq(users.id, orders.userId))
    .where(eq(orders.id, orderId));
  if (!row) throw new Error(`order ${orderId} vanished`);
  const [envRow] = await db
    .select({ environment: environments, host: hosts })
    .from(environments)
    .innerJoin(hosts, eq(hosts.id, environments.hostId))
    .where(and(eq(environments.orderId, orderId), ne(environments.state, "deleted")));
  const addresses = await db
    .select({ allocation: ipAllocations, network: networks })
    .from(ipAllocations)
    .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
    .where(eq(ipAllocations.orderId, orderId))
    .orderBy(asc(networks.purpose));
  // Service IPs pointing at the environment: the glue keeps them on the guest.
  const pointing = envRow
    ? await db
        .select({ ip: serviceIps.ip, network: networks.slug })
        .from(serviceIps)
        .innerJoin(networks, eq(networks.id, serviceIps.networkId))
        .where(eq(serviceIps.environmentId, envRow.environment.id))
        .orderBy(asc(serviceIps.ip))
    : [];
  return { ...row, environment: envRow?.environment ?? null, host: envRow?.host ?? null, addresses, serviceIps: pointing, networkPolicy: await networkPolicy(db) };
}

export type OrderContext = Awaited<ReturnType<typeof loadOrderContext>>;

export function deploySpec(ctx: OrderContext): DeploySpec {
  if (!ctx.environment || !ctx.host) throw new Error("the environment has not been placed yet");
  return {
    orderId: ctx.order.id,
    hostname: ctx.environment.hostname,
    image: { slug: ctx.image.slug, os: ctx.image.os, source: ctx.image.source, rootType: ctx.image.rootType, sizeMb: ctx.image.sizeMb },
    flavor: {
      vcpus: ctx.flavor.vcpus,
      memoryMb: ctx.flavor.memoryMb,
      diskGb: ctx.flavor.diskGb,
      cpuCap: ctx.flavor.cpuCap,
      memoryCapMb: ctx.flavor.memoryCapMb,
    },
    host: { id: ctx.host.id, name: ctx.host.name, kind: ctx.host.kind, address: ctx.host.address, config: ctx.host.config },
    addresses: ctx.addresses.map(({ allocation, network }) => ({
      network: network.slug,
      purpose: network.purpose,
      ip: allocation.ip,
      mac: allocation.mac,
      cidr: network.cidr,
      gateway: network.gateway,
      bridge: network.bridge,
    })),
    sshPublicKey: ctx.user.sshPublicKey,
    serviceIps: ctx.serviceIps,
    networkPolicy: ctx.networkPolicy,
  };
}
