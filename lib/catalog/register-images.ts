import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { images } from "../db/schema";
import type { Transport } from "../drivers/transport/types";
import { postgresMajor } from "../drivers/images/postgres";
import { qemuCatalogImages } from "../drivers/images/recipe";
import { goldenFiles } from "../drivers/images/types";
import { keepGoldenBuild } from "../drivers/images/versions";
import { registerBuild } from "./versions";

export type RegisteredImage = {
  slug: string;
  name: string;
  sizeMb: number;
  checksum: string;
  /** The catalog row was made now. */
  created: boolean;
  /** The image's current version after registering. */
  version: number;
  /** Versions made now (a build with the checksums of a known version makes none). */
  newVersions: number[];
};

/**
 * Puts the built golden images of the store into the catalog as "Linux (QEMU)" images (host
 * kind qemu), each one's newest build (golden/<slug>/, kept in versions/<slug>/ too) as a
 * numbered version: a build whose checksums match a registered version is that version again
 * (idempotent, and an admin's choice of an older current version stays); a new build becomes
 * the next version and the current one (its changelog line from `images:build --changelog`, or a
 * default). Images not built are left out (and keep their rows, if any). Returns what is registered.
 */
export async function registerBuiltImages(db: Db, t: Transport, store: string): Promise<RegisteredImage[]> {
  const out: RegisteredImage[] = [];
  for (const image of qemuCatalogImages) {
    const newest = await keepGoldenBuild(t, store, image.slug);
    if (!newest) continue;
    const { manifest } = newest;
    const disk = manifest.files[goldenFiles.disk];
    if (!disk) continue;
    const bytes = Object.values(manifest.files).reduce((n, f) => n + f.size, 0);
    const sizeMb = Math.max(1, Math.ceil(bytes / (1024 * 1024)));
    const values = {
      name: image.name,
      description: image.description,
      os: "linux" as const,
      version: `Debian kernel ${manifest.kernelVersion}, busybox${image.layer === "postgres" ? `, PostgreSQL ${postgresMajor}` : ""}`,
      hostKinds: ["qemu"],
      source: image.source,
      purpose: image.purpose,
      sizeMb,
      recipeSlug: image.recipe ?? null,
    };
    const [existing] = await db.select({ id: images.id }).from(images).where(eq(images.slug, image.slug));
    const id = existing
      ? (await db.update(images).set(values).where(eq(images.id, existing.id)).returning({ id: images.id }))[0]!.id
      : (await db.insert(images).values({ slug: image.slug, ...values }).returning({ id: images.id }))[0]!.id;
    const { current, created } = await registerBuild(db, id, newest);
    out.push({
      slug: image.slug, name: image.name, sizeMb, checksum: current.artifact?.files[goldenFiles.disk]?.sha256 ?? disk.sha256,
      created: !existing, version: current.number, newVersions: created,
    });
  }
  return out;
}
