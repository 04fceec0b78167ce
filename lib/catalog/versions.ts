import { and, asc, count, desc, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { environments, images, imageVersions, orders, type ImageArtifact } from "../db/schema";
import type { Actor } from "../auth/actor";
import { conflict, notFound } from "../errors";
import { lockForTransaction } from "../db/locks";
import { markUnchanged, writeAudit } from "../audit/write";
import type { GoldenManifest } from "../drivers/images/types";

export type ImageVersion = typeof imageVersions.$inferSelect;

/** A version as `GET /api/v1/images/:id/versions`, the catalog and the admin page show it. */
export type ImageVersionView = {
  id: string;
  number: number;
  builtAt: string;
  recipeHash: string | null;
  changelog: string;
  /** The artifacts' names with their sha256 and size (null for images not built here). */
  checksums: ImageArtifact["files"] | null;
  kernelVersion: string | null;
  buildKey: string | null;
  current: boolean;
  /** Live environments built from it. */
  environments: number;
  createdAt: string;
};

/** Orders whose environments count as live for "built from this version". */
const gone: ("rejected" | "cancelled" | "retired")[] = ["rejected", "cancelled", "retired"];

export function versionView(v: ImageVersion, currentId: string | null, environmentsOn = 0): ImageVersionView {
  return {
    id: v.id,
    number: v.number,
    builtAt: v.builtAt.toISOString(),
    recipeHash: v.recipeHash,
    changelog: v.changelog,
    checksums: v.artifact?.files ?? null,
    kernelVersion: v.artifact?.kernelVersion ?? null,
    buildKey: v.buildKey,
    current: v.id === currentId,
    environments: environmentsOn,
    createdAt: v.createdAt.toISOString(),
  };
}

/**
 * The image's current version, made now as version 1 when the image has none yet (images from
 * before versions, or added without one). In the caller's transaction.
 */
export async function currentVersionOf(db: Db, imageId: string): Promise<ImageVersion> {
  const [image] = await db.select({ currentVersionId: images.currentVersionId, createdAt: images.createdAt }).from(images).where(eq(images.id, imageId));
  if (!image) throw notFound("Image");
  if (image.currentVersionId) {
    const [v] = await db.select().from(imageVersions).where(eq(imageVersions.id, image.currentVersionId));
    if (v) return v;
  }
  return db.transaction(async (tx) => {
    await lockForTransaction(tx, "imageSlug", `versions:${imageId}`);
    const [newest] = await tx.select().from(imageVersions).where(eq(imageVersions.imageId, imageId)).orderBy(desc(imageVersions.number)).limit(1);
    const v = newest ?? (await tx.insert(imageVersions).values({ imageId, number: 1, builtAt: image.createdAt, changelog: "First version" }).returning())[0]!;
    await tx.update(images).set({ currentVersionId: v.id }).where(and(eq(images.id, imageId), isNull(images.currentVersionId)));
    return v;
  });
}

/**
 * Gives every image without a version its version 1, and every environment built before
 * versions were recorded its image's first version. Idempotent; run at start.
 */
export async function ensureImageVersions(db: Db): Promise<{ images: number; environments: number }> {
  const missing = await db.select({ id: images.id }).from(images).where(isNull(images.currentVersionId));
  for (const i of missing) await currentVersionOf(db, i.id);
  const backfilled = await db.execute(sql`
    update ${environments} e set image_version_id = (
      select v.id from ${imageVersions} v join ${orders} o on o.image_id = v.image_id where o.id = e.order_id order by v.number asc limit 1
    )
    where e.image_version_id is null and e.state in ('running', 'stopped', 'migrating', 'error')`);
  return { images: missing.length, environments: Number((backfilled as { rowCount?: number }).rowCount ?? 0) };
}

/** The version a run builds: the one it names, else the image's current one. */
export async function versionForBuild(db: Db, imageId: string, versionId: string | null): Promise<ImageVersion> {
  if (versionId) {
    const [v] = await db.select().from(imageVersions).where(and(eq(imageVersions.id, versionId), eq(imageVersions.imageId, imageId)));
    if (v) return v;
  }
  return currentVersionOf(db, imageId);
}

/** The image's versions, newest first, with how many live environments each has; 404 without the image. */
export async function listImageVersions(db: Db, imageId: string): Promise<{ image: { id: string; slug: string; name: string; currentVersion: number | null }; versions: ImageVersionView[] }> {
  const [image] = await db.select().from(images).where(eq(images.id, imageId));
  if (!image) throw notFound("Image");
  const current = await currentVersionOf(db, imageId);
  const rows = await db.select().from(imageVersions).where(eq(imageVersions.imageId, imageId)).orderBy(desc(imageVersions.number));
  const counts = rows.length
    ? await db
        .select({ versionId: environments.imageVersionId, n: count() })
        .from(environments)
        .innerJoin(orders, eq(orders.id, environments.orderId))
        .where(and(inArray(environments.imageVersionId, rows.map((r) => r.id)), notInArray(orders.status, gone), sql`${environments.state} <> 'deleted'`))
        .groupBy(environments.imageVersionId)
    : [];
  const byVersion = new Map(counts.map((c) => [c.versionId, c.n]));
  return {
    image: { id: image.id, slug: image.slug, name: image.name, currentVersion: current.number },
    versions: rows.map((v) => versionView(v, current.id, byVersion.get(v.id) ?? 0)),
  };
}

/** The current version of each image (number, changelog, build time), for the catalog and the admin page. */
export async function currentVersions(db: Db, imageIds: string[]): Promise<Map<string, { number: number; changelog: string; builtAt: Date }>> {
  if (imageIds.length === 0) return new Map();
  const rows = await db
    .select({ imageId: images.id, number: imageVersions.number, changelog: imageVersions.changelog, builtAt: imageVersions.builtAt })
    .from(images)
    .innerJoin(imageVersions, eq(imageVersions.id, images.currentVersionId))
    .where(inArray(images.id, imageIds));
  return new Map(rows.map(({ imageId, ...v }) => [imageId, v]));
}

/** Every version of each image, newest first (the admin page's choice of the current one). */
export async function versionsOfImages(db: Db, imageIds: string[]): Promise<Map<string, { id: string; number: number; changelog: string; builtAt: Date }[]>> {
  if (imageIds.length === 0) return new Map();
  const rows = await db
    .select({ imageId: imageVersions.imageId, id: imageVersions.id, number: imageVersions.number, changelog: imageVersions.changelog, builtAt: imageVersions.builtAt })
    .from(imageVersions)
    .where(inArray(imageVersions.imageId, imageIds))
    .orderBy(desc(imageVersions.number));
  const out = new Map<string, { id: string; number: number; changelog: string; builtAt: Date }[]>();
  for (const { imageId, ...v } of rows) out.set(imageId, [...(out.get(imageId) ?? []), v]);
  return out;
}

/** One version of an image by its number, or 404. */
export async function versionByNumber(db: Db, imageId: string, number: number): Promise<ImageVersion> {
  const [v] = await db.select().from(imageVersions).where(and(eq(imageVersions.imageId, imageId), eq(imageVersions.number, number)));
  if (!v) throw notFound(`Version ${number} of the image`);
  return v;
}

/**
 * Admins: makes version `number` the image's current one (new environments and reinstalls are
 * built from it; environments on an older one show as outdated). Setting an older version is
 * the image's rollback. 409 for a retired image; audited with the version before and after.
 */
export async function setCurrentVersion(db: Db, actor: Actor, imageId: string, number: number): Promise<ImageVersionView> {
  const before = await currentVersionOf(db, imageId);
  return db.transaction(async (tx) => {
    const [image] = await tx.select().from(images).where(eq(images.id, imageId)).for("update");
    if (!image) throw notFound("Image");
    if (image.retiredAt) throw conflict(`${image.name} is retired: it can no longer be changed`);
    const v = await versionByNumber(tx, imageId, number);
    if (image.currentVersionId === v.id) {
      markUnchanged();
      return versionView(v, v.id);
    }
    await tx.update(images).set({ currentVersionId: v.id, ...mirrorOf(v) }).where(eq(images.id, imageId));
    await writeAudit(tx, {
      actorId: actor.id, action: "image.version.current", targetType: "image", targetId: imageId,
      data: { slug: image.slug }, before: { version: before.number }, after: { version: v.number },
    });
    return versionView(v, v.id);
  });
}

/**
 * Admins: a new version of an image that is not built here (a sim, Xen or zones template
 * updated where it lives), with its changelog line; it becomes current unless `makeCurrent` is
 * false. Versions of images built by `npm run images:build` come from their builds only (409).
 * Audited.
 */
export async function addImageVersion(db: Db, actor: Actor, imageId: string, input: { changelog: string; makeCurrent?: boolean }): Promise<ImageVersionView> {
  await currentVersionOf(db, imageId);
  return db.transaction(async (tx) => {
    const [image] = await tx.select().from(images).where(eq(images.id, imageId)).for("update");
    if (!image) throw notFound("Image");
    if (image.retiredAt) throw conflict(`${image.name} is retired: it can no longer be changed`);
    const known = await tx.select().from(imageVersions).where(eq(imageVersions.imageId, imageId)).orderBy(desc(imageVersions.number));
    if (known.some((v) => v.buildKey)) throw conflict(`Versions of ${image.name} come from its builds: build it again (npm run images:build -- --force --changelog "...") and restart the portal`);
    const [v] = await tx.insert(imageVersions).values({ imageId, number: (known[0]?.number ?? 0) + 1, changelog: input.changelog }).returning();
    const current = input.makeCurrent === false ? image.currentVersionId : v!.id;
    if (current !== image.currentVersionId) await tx.update(images).set({ currentVersionId: current }).where(eq(images.id, imageId));
    await writeAudit(tx, {
      actorId: actor.id, action: "image.version.create", targetType: "image", targetId: imageId,
      data: { slug: image.slug, version: v!.number, changelog: input.changelog, current: current === v!.id },
    });
    return versionView(v!, current);
  });
}

/** What the images row keeps of its current version (the catalog's checksum and artifact). */
function mirrorOf(v: ImageVersion): Partial<typeof images.$inferInsert> {
  return v.artifact ? { checksum: v.artifact.files["disk.qcow2"]?.sha256 ?? null, artifact: v.artifact } : {};
}

/** The default changelog line of a build registered without one. */
function defaultChangelog(manifest: GoldenManifest, previous: ImageVersion | undefined): string {
  if (!previous) return `First registered build: kernel ${manifest.kernelVersion}`;
  const recipe = previous.recipeHash === manifest.recipeHash ? "the same recipe" : `a changed recipe (${manifest.recipeHash.slice(0, 12)}…)`;
  return `Rebuilt from ${recipe}: kernel ${manifest.kernelVersion}, built ${manifest.builtAt}`;
}

/**
 * Records a build of one image as its version: a build whose key (its checksums) is already a
 * version is that version (nothing changes; an admin's choice of an older current version
 * stays); a new one becomes the next number and the image's current version. Returns the
 * current version and the number made, if any.
 */
export async function registerBuild(db: Db, imageId: string, build: { key: string; manifest: GoldenManifest }): Promise<{ current: ImageVersion; created: number[] }> {
  return db.transaction(async (tx) => {
    await lockForTransaction(tx, "imageSlug", `versions:${imageId}`);
    const known = await tx.select().from(imageVersions).where(eq(imageVersions.imageId, imageId)).orderBy(asc(imageVersions.number));
    const [image] = await tx.select({ currentVersionId: images.currentVersionId }).from(images).where(eq(images.id, imageId)).for("update");
    const same = known.find((v) => v.buildKey === build.key);
    let current = known.find((v) => v.id === image?.currentVersionId) ?? same ?? known.at(-1);
    const created: number[] = [];
    if (!same) {
      const m = build.manifest;
      const last = known.at(-1);
      const [v] = await tx
        .insert(imageVersions)
        .values({
          imageId,
          number: (last?.number ?? 0) + 1,
          builtAt: new Date(m.builtAt),
          recipeHash: m.recipeHash,
          changelog: (m.changelog ?? defaultChangelog(m, last)).slice(0, 500),
          artifact: { store: "golden", kernelVersion: m.kernelVersion, recipeHash: m.recipeHash, builtAt: m.builtAt, files: m.files },
          buildKey: build.key,
        })
        .returning();
      created.push(v!.number);
      current = v!;
    }
    await tx.update(images).set({ currentVersionId: current!.id, ...mirrorOf(current!) }).where(eq(images.id, imageId));
    return { current: current!, created };
  });
}
