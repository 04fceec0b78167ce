import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { images } from "../db/schema";
import type { Transport } from "../drivers/transport/types";
import { readManifest } from "../drivers/images/manifest";
import { postgresMajor } from "../drivers/images/postgres";
import { qemuCatalogImages } from "../drivers/images/recipe";
import { goldenPaths } from "../drivers/images/store";
import { goldenFiles, type GoldenManifest } from "../drivers/images/types";

export type RegisteredImage = { slug: string; name: string; sizeMb: number; checksum: string; created: boolean };

/**
 * Puts the built golden images of the store into the catalog as "Linux (QEMU)" images (host
 * kind qemu) with their size and checksums; updates rows whose build changed. Images not
 * built are left out (and keep their rows, if any). Returns what is registered.
 */
export async function registerBuiltImages(db: Db, t: Transport, store: string): Promise<RegisteredImage[]> {
  const out: RegisteredImage[] = [];
  for (const image of qemuCatalogImages) {
    const manifest = await readManifest<GoldenManifest>(t, goldenPaths(store, image.slug).dir);
    if (!manifest || manifest.slug !== image.slug) continue;
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
      checksum: disk.sha256,
      recipeSlug: image.recipe ?? null,
      artifact: { store: "golden" as const, kernelVersion: manifest.kernelVersion, recipeHash: manifest.recipeHash, builtAt: manifest.builtAt, files: manifest.files },
    };
    const [existing] = await db.select({ id: images.id }).from(images).where(eq(images.slug, image.slug));
    if (existing) await db.update(images).set(values).where(eq(images.id, existing.id));
    else await db.insert(images).values({ slug: image.slug, ...values });
    out.push({ slug: image.slug, name: image.name, sizeMb, checksum: disk.sha256, created: !existing });
  }
  return out;
}
