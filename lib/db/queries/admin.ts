import { asc, count, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { groups, hosts, images, ipAllocations, memberships, networks, users } from "../schema";
import { usableCount } from "../../net/ipam";
import { conflict } from "../../errors";
import { lockForTransaction } from "../locks";
import { writeAudit } from "../../audit";
import type { ImageInput } from "../../validation/image";
import type { Actor } from "./orders";

/** Users with the groups they belong to, for the admin page. */
export async function listUsersWithGroups(db: Db) {
  const rows = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabled: users.disabled, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.email));
  const links = await db
    .select({ userId: memberships.userId, group: groups.name, slug: groups.slug, as: memberships.role })
    .from(memberships)
    .innerJoin(groups, eq(groups.id, memberships.groupId))
    .orderBy(asc(groups.name));
  return rows.map((u) => ({ ...u, groups: links.filter((l) => l.userId === u.id).map((l) => ({ name: l.group, slug: l.slug, as: l.as })) }));
}

/** Groups with their member counts. */
export async function listGroupsWithMembers(db: Db) {
  const rows = await db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, kind: groups.kind, autoApprove: groups.autoApprove, members: count(memberships.userId) })
    .from(groups)
    .leftJoin(memberships, eq(memberships.groupId, groups.id))
    .groupBy(groups.id)
    .orderBy(asc(groups.name));
  return rows;
}

/** Networks with how many guest addresses are used and still free. */
export async function listNetworksWithFree(db: Db) {
  const used = await db
    .select({ networkId: ipAllocations.networkId, n: sql<number>`count(*)::int` })
    .from(ipAllocations)
    .groupBy(ipAllocations.networkId);
  const byNetwork = new Map(used.map((u) => [u.networkId, u.n]));
  const rows = await db.select().from(networks).orderBy(asc(networks.purpose), asc(networks.name));
  return rows.map((n) => {
    const total = usableCount(n.cidr, n.gateway);
    const inUse = byNetwork.get(n.id) ?? 0;
    return {
      id: n.id, slug: n.slug, name: n.name, purpose: n.purpose, cidr: n.cidr, gateway: n.gateway, bridge: n.bridge,
      macPrefix: n.macPrefix, total, used: inUse, free: total - inUse,
    };
  });
}

/** Every image, active or not. */
export async function listAllImages(db: Db) {
  return db.select().from(images).orderBy(asc(images.os), asc(images.name));
}

/** Adds an image to the catalog (admins); 409 when the slug is taken. Audited in the same transaction. */
export async function createImage(db: Db, actor: Actor, input: ImageInput) {
  return db.transaction(async (tx) => {
    // Two admins adding the same slug at once: the second waits and then sees the first.
    await lockForTransaction(tx, "imageSlug", input.slug);
    const [existing] = await tx.select({ name: images.name }).from(images).where(eq(images.slug, input.slug));
    if (existing) throw conflict(`An image with slug ${input.slug} already exists (${existing.name})`, "slug");
    const [row] = await tx.insert(images).values(input).returning();
    await writeAudit(tx, {
      actorId: actor.id,
      action: "image.create",
      targetType: "image",
      targetId: row.id,
      data: { slug: row.slug, os: row.os, version: row.version, hostKinds: row.hostKinds, source: row.source, rootType: row.rootType },
    });
    return row;
  });
}

/** Failure injection per sim host, for the admin page. */
export async function hostFailureInjection(db: Db) {
  const rows = await db.select({ id: hosts.id, config: hosts.config }).from(hosts);
  return new Map(rows.map((r) => [r.id, r.config.failSteps ?? {}]));
}
