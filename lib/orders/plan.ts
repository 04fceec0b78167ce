import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { hosts, ipAllocations, networks, users, type HostKind } from "../db/schema";
import { UserError } from "../errors";
import { supportedHostKinds } from "../drivers";
import { deploymentPlan } from "../drivers/plan/deployment";
import { planJson, renderPlan } from "../drivers/plan/render";
import { StepError, type DeploySpec } from "../drivers/types";
import { nextFreeAddress } from "../net/ipam";
import { macForIp } from "../net/mac";
import { placeEnvironment } from "../policy/placement";
import { writeAudit } from "../audit/write";
import type { PlanInput } from "./plan-input";
import type { Actor } from "../auth/actor";
import { catalogChoiceErrors, defaultProductionNetwork, findFlavor, findImage, findNetwork } from "../catalog/queries";

/** Hosts an admin may plan for (the dry run's host choice), by name. */
export async function planHosts(db: Db) {
  return db.select({ name: hosts.name, kind: hosts.kind, state: hosts.state }).from(hosts).where(isNull(hosts.removedAt)).orderBy(asc(hosts.name));
}

/** What address a network would give next (not reserved: a dry run changes nothing). */
async function nextAddress(db: Db, network: typeof networks.$inferSelect) {
  const taken = await db.select({ ip: ipAllocations.ip }).from(ipAllocations).where(eq(ipAllocations.networkId, network.id));
  const ip = nextFreeAddress(network.cidr, network.gateway, taken.map((t) => t.ip));
  if (!ip) throw new UserError(`Network ${network.name} (${network.cidr}) has no free address left`, 409);
  return { network: network.slug, purpose: network.purpose, ip, mac: macForIp(ip, network.macPrefix), cidr: network.cidr, gateway: network.gateway, bridge: network.bridge };
}

/**
 * The exact commands and files a deployment of `input` would run on the host placement would
 * choose (or on `input.host`), without running or reserving anything. Addresses are the ones
 * the networks would hand out next; the real order may get others if someone orders first.
 */
export async function dryRunPlan(db: Db, actor: Actor, input: PlanInput) {
  const [image, flavor, network] = await Promise.all([
    findImage(db, input.image),
    findFlavor(db, input.flavor),
    input.network ? findNetwork(db, input.network) : defaultProductionNetwork(db),
  ]);
  const fields = catalogChoiceErrors(input, { image, flavor, network });
  if (!image || !flavor || !network || fields.network) throw new UserError("The order has invalid fields", 422, fields);

  const kinds = image.hostKinds.filter((k): k is HostKind => supportedHostKinds.includes(k as HostKind));
  let host: typeof hosts.$inferSelect;
  let placement: string;
  if (input.host) {
    const [row] = await db.select().from(hosts).where(and(eq(hosts.name, input.host), isNull(hosts.removedAt)));
    if (!row) throw new UserError("The order has invalid fields", 422, { host: [`No host "${input.host}"`] });
    if (!kinds.includes(row.kind)) throw new UserError("The order has invalid fields", 422, { host: [`${image.name} does not run on ${row.kind} hosts like ${row.name}`] });
    host = row;
    placement = `${row.name}: chosen for this dry run`;
  } else {
    try {
      const chosen = await db.transaction((tx) => placeEnvironment(tx, { kinds, vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb }));
      [host] = await db.select().from(hosts).where(eq(hosts.id, chosen.hostId));
      placement = chosen.reason;
    } catch (e) {
      if (e instanceof StepError) throw new UserError(e.message, 409);
      throw e;
    }
  }

  const [service] = await db.select().from(networks).where(eq(networks.purpose, "service")).orderBy(asc(networks.createdAt)).limit(1);
  const nets = [network, ...(service && service.id !== network.id ? [service] : [])].sort((a, b) => a.purpose.localeCompare(b.purpose));
  const addresses = await Promise.all(nets.map((n) => nextAddress(db, n)));
  const [owner] = await db.select({ sshPublicKey: users.sshPublicKey }).from(users).where(eq(users.id, actor.id));

  const spec: DeploySpec = {
    orderId: "00000000-0000-0000-0000-000000000000",
    hostname: input.name,
    image: { slug: image.slug, os: image.os, source: image.source, rootType: image.rootType, sizeMb: image.sizeMb },
    flavor: { vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb, cpuCap: flavor.cpuCap, memoryCapMb: flavor.memoryCapMb },
    host: { id: host.id, name: host.name, kind: host.kind, address: host.address, config: host.config },
    addresses,
    sshPublicKey: owner?.sshPublicKey ?? null,
  };
  let plan;
  try {
    plan = deploymentPlan(spec);
  } catch (e) {
    if (e instanceof StepError) throw new UserError(e.message, 409);
    throw e;
  }
  await writeAudit(db, { actorId: actor.id, action: "plan.preview", targetType: "host", targetId: host.id, data: { image: image.slug, flavor: flavor.slug, name: input.name } });
  return {
    host: { name: host.name, kind: host.kind },
    placement,
    addresses: addresses.map(({ network: n, ip, mac, bridge }) => ({ network: n, ip, mac, bridge })),
    plan: plan ? planJson(plan) : null,
    text: plan ? renderPlan(plan) : null,
    message: plan
      ? `The commands and files below would run on ${host.name} (${host.kind}). Nothing has been run or reserved.`
      : `${host.name} is a ${host.kind} host: its driver runs no command plan on a host, so there is nothing to show.`,
  };
}
