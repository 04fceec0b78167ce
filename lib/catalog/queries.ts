import { and, asc, eq, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { flavors, images, networks } from "../db/schema";
import { isUuid } from "../validation/ids";
import { conflict } from "../errors";
import { lockForTransaction } from "../db/locks";
import { writeAudit } from "../audit/write";
import type { ImageInput } from "./input";
import type { Actor } from "../auth/actor";


/** `ref` is an id or a slug. */
function byRef<T extends { id: unknown; slug: unknown }>(table: T, ref: string) {
  const t = table as unknown as typeof images;
  return isUuid(ref) ? or(eq(t.id, ref), eq(t.slug, ref)) : eq(t.slug, ref);
}

export async function findImage(db: Db, ref: string) {
  const [row] = await db.select().from(images).where(and(byRef(images, ref), eq(images.active, true)));
  return row ?? null;
}

export async function findFlavor(db: Db, ref: string) {
  const [row] = await db.select().from(flavors).where(and(byRef(flavors, ref), eq(flavors.active, true)));
  return row ?? null;
}

export async function findNetwork(db: Db, ref: string) {
  const [row] = await db.select().from(networks).where(byRef(networks, ref));
  return row ?? null;
}

/** The oldest production network (among `allowed`, when a group limits its networks). */
/**
 * Messages per field for an order's catalog choices (also a course's and a dry run's): what
 * was not found, and a service network where a production network is needed. Empty when all
 * three are usable.
 */
export function catalogChoiceErrors(
  input: { image: string; flavor: string; network?: string | null },
  found: { image: unknown; flavor: unknown; network: { name: string; purpose: string } | null | undefined },
): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  if (!found.image) fields.image = [`No image "${input.image}" in the catalog`];
  if (!found.flavor) fields.flavor = [`No size "${input.flavor}" in the catalog`];
  if (!found.network) fields.network = [input.network ? `No network "${input.network}"` : "No production network is configured"];
  else if (found.network.purpose !== "production") fields.network = [`${found.network.name} is a service network; choose a production network`];
  return fields;
}

export async function defaultProductionNetwork(db: Db, allowed?: string[]) {
  const production = eq(networks.purpose, "production");
  const where = allowed?.length ? and(production, inArray(networks.id, allowed)) : production;
  const [row] = await db.select().from(networks).where(where).orderBy(asc(networks.createdAt)).limit(1);
  return row ?? null;
}

export type CatalogFilter = { os?: "linux" | "solaris"; kind?: string };

export async function listCatalog(db: Db, filter: CatalogFilter = {}) {
  const allImages = await db.select().from(images).where(eq(images.active, true)).orderBy(asc(images.os), asc(images.name));
  const filtered = allImages.filter((i) => (!filter.os || i.os === filter.os) && (!filter.kind || i.hostKinds.includes(filter.kind)));
  const allFlavors = await db.select().from(flavors).where(eq(flavors.active, true)).orderBy(asc(flavors.vcpus), asc(flavors.memoryMb));
  // Oldest first within a purpose: the first production network is the default an order gets.
  const allNetworks = await db.select().from(networks).orderBy(asc(networks.purpose), asc(networks.createdAt));
  return { images: filtered, flavors: allFlavors, networks: allNetworks };
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
