import { and, asc, eq, inArray, notInArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { courses, flavors, images, networks, orders } from "../db/schema";
import { isUuid } from "../validation/ids";
import { conflict, notFound, UserError } from "../errors";
import { lockForTransaction } from "../db/locks";
import { markUnchanged, writeAudit } from "../audit/write";
import { hostKindsProblem, recipeKindsProblem, type ImageInput, type ImageUpdate } from "./input";
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

/** Every image, listed, hidden or retired. */
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

type ImageRow = typeof images.$inferSelect;

/** The image to change, locked to the end of the transaction; 404 when there is none. */
async function imageForChange(tx: Db, imageId: string): Promise<ImageRow> {
  // FOR UPDATE also makes orders being placed on it wait (their foreign key check locks the row).
  const [row] = await tx.select().from(images).where(eq(images.id, imageId)).for("update");
  if (!row) throw notFound("Image");
  return row;
}

/**
 * Changes what an image says about itself, or hides it from the catalog (`active: false`: not
 * listed, not orderable; environments built from it keep running) and lists it again. A retired
 * image is not changed (409). Audited with the fields before and after.
 */
export async function updateImage(db: Db, actor: Actor, imageId: string, input: ImageUpdate): Promise<ImageRow> {
  return db.transaction(async (tx) => {
    const image = await imageForChange(tx, imageId);
    if (image.retiredAt) throw conflict(`${image.name} is retired: it can no longer be changed`);
    const kinds = input.hostKinds ? hostKindsProblem(image.os, input.hostKinds) : null;
    if (kinds) throw new UserError(kinds, 422, { hostKinds: [kinds] });
    const recipe = recipeKindsProblem(input.recipeSlug === undefined ? image.recipeSlug : input.recipeSlug, input.hostKinds ?? image.hostKinds);
    if (recipe) throw new UserError(recipe, 422, { [input.recipeSlug === undefined ? "hostKinds" : "recipeSlug"]: [recipe] });
    const changed = (Object.keys(input) as (keyof ImageUpdate)[]).filter(
      (k) => input[k] !== undefined && JSON.stringify(input[k]) !== JSON.stringify(image[k]),
    );
    if (!changed.length) {
      markUnchanged();
      return image;
    }
    const set = Object.fromEntries(changed.map((k) => [k, input[k]])) as Partial<ImageRow>;
    const [row] = await tx.update(images).set(set).where(eq(images.id, image.id)).returning();
    const pick = (i: ImageRow) => Object.fromEntries(changed.map((k) => [k, i[k]]));
    await writeAudit(tx, { actorId: actor.id, action: "image.update", targetType: "image", targetId: image.id, data: { slug: image.slug }, before: pick(image), after: pick(row!) });
    return row!;
  });
}

/** Names listed in a refusal before "and N more". */
const NAMES_SHOWN = 10;

/** "a, b and c", or the first NAMES_SHOWN and how many more. */
function listNames(names: string[], total: number): string {
  const more = total - names.length;
  if (more > 0) return `${names.join(", ")} and ${more} more`;
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
}

/**
 * Retires an image for good: hidden from the catalog and from what groups may offer, no longer
 * changed. Refused (409, naming them) while an order that is not rejected, cancelled or retired
 * still uses it (its environment runs on it, or it may yet be built or retried), or an active
 * course hands out machines of it. Retiring a retired image changes nothing.
 */
export async function retireImage(db: Db, actor: Actor, imageId: string): Promise<ImageRow> {
  return db.transaction(async (tx) => {
    const image = await imageForChange(tx, imageId);
    if (image.retiredAt) {
      markUnchanged();
      return image;
    }
    const [users, teaching] = await Promise.all([
      tx
        .select({ name: orders.name, total: sql<number>`count(*) over ()::int` })
        .from(orders)
        .where(and(eq(orders.imageId, image.id), notInArray(orders.status, ["rejected", "cancelled", "retired"])))
        .orderBy(asc(orders.name))
        .limit(NAMES_SHOWN),
      tx.select({ name: courses.name }).from(courses).where(and(eq(courses.imageId, image.id), eq(courses.status, "active"))).orderBy(asc(courses.name)),
    ]);
    if (users.length || teaching.length) {
      const ordersTotal = users[0]?.total ?? 0;
      const why = [
        ordersTotal ? `${ordersTotal === 1 ? "order" : `${ordersTotal} orders`} ${listNames(users.map((u) => u.name), ordersTotal)} still ${ordersTotal === 1 ? "uses" : "use"} it` : null,
        teaching.length ? `${teaching.length === 1 ? "course" : "courses"} ${listNames(teaching.map((c) => c.name), teaching.length)} still ${teaching.length === 1 ? "hands" : "hand"} out machines of it` : null,
      ];
      const first = [ordersTotal ? `retire or cancel ${ordersTotal === 1 ? "that order" : "those orders"}` : null, teaching.length ? `end ${teaching.length === 1 ? "that course" : "those courses"}` : null];
      const say = (parts: (string | null)[]) => parts.filter(Boolean).join(", and ");
      const advice = say(first);
      throw conflict(`${image.name} cannot be retired: ${say(why)}. ${advice[0]!.toUpperCase()}${advice.slice(1)} first; hide the image to stop new orders meanwhile.`);
    }
    const [row] = await tx.update(images).set({ active: false, retiredAt: sql`now()` }).where(eq(images.id, image.id)).returning();
    await writeAudit(tx, {
      actorId: actor.id, action: "image.retire", targetType: "image", targetId: image.id,
      data: { slug: image.slug }, before: { active: image.active, retired: false }, after: { active: false, retired: true },
    });
    return row!;
  });
}
